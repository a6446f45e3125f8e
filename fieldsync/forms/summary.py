"""What a form's answers add up to, for the charts on its page.

Choices and yes/no answers are counted per option; numbers get count, min,
mean, max and a histogram. The database's JSON functions do the counting, so
a summary of many submissions never loads them into Python. The SQL means the
same on both backends: an answer is picked out in a subquery before it is
filtered (PostgreSQL has no output names in WHERE), and a number is cast to
NUMERIC (PostgreSQL's json_extract gives text, which would sort and average as
text; SQLite's cast leaves a number as it is, an integer or a real).
"""

from __future__ import annotations

from fieldsync.forms import catalogue
from fieldsync.store import Store

BINS = 8


def summarise(store: Store, form_id: str) -> list[dict]:
    """One entry per chartable field of the newest published version."""
    form = catalogue.get(store, form_id)
    out = []
    for spec in form["definition"]["fields"]:
        maker = {"single_choice": _choices, "multi_choice": _multi, "yes_no": _yes_no,
                 "number": _numbers}.get(spec["type"])
        if maker:
            out.append({"name": spec["name"], "label": spec["label"], "type": spec["type"],
                        **maker(store, form_id, spec)})
    return out


def _bars(counts: list[tuple[str, int]]) -> dict:
    top = max((n for _, n in counts), default=0)
    return {"bars": [{"label": label, "count": n, "share": round(100 * n / top) if top else 0}
                     for label, n in counts],
            "answered": sum(n for _, n in counts)}


# An answer per submission of the form (path, form id), NULL where it has none.
ANSWERS = "(SELECT json_extract(data, ?) AS v FROM submissions WHERE form_id = ?)"
NUMBERS = "(SELECT CAST(json_extract(data, ?) AS NUMERIC) AS v FROM submissions WHERE form_id = ?)"


def _counted(store: Store, sql: str, form_id: str, spec: dict) -> dict:
    """Answer as text (a yes/no as "1" or "0" on both backends) → how many gave it."""
    return {str(row["v"]): row["n"] for row in store.query(sql, [f"$.{spec['name']}", form_id])}


def _choices(store: Store, form_id: str, spec: dict) -> dict:
    counts = _counted(store, f"SELECT v, COUNT(*) AS n FROM {ANSWERS} WHERE v IS NOT NULL GROUP BY v", form_id, spec)
    return _bars(_with_labels(spec, counts))


def _multi(store: Store, form_id: str, spec: dict) -> dict:
    counts = _counted(store, "SELECT j.value AS v, COUNT(*) AS n FROM submissions s, json_each(s.data, ?) j"
                             " WHERE s.form_id = ? GROUP BY j.value", form_id, spec)
    return _bars(_with_labels(spec, counts))


def _with_labels(spec: dict, counts: dict) -> list[tuple[str, int]]:
    """Every option in the form's order (zero counts too), then values an older version allowed."""
    labelled = [(o["label"]["zh"], counts.pop(o["value"], 0)) for o in spec["options"]]
    return labelled + sorted(counts.items())


def _yes_no(store: Store, form_id: str, spec: dict) -> dict:
    counts = _counted(store, f"SELECT v, COUNT(*) AS n FROM {ANSWERS} WHERE v IS NOT NULL GROUP BY v", form_id, spec)
    return _bars([("是", counts.get("1", 0)), ("否", counts.get("0", 0))])


def _numbers(store: Store, form_id: str, spec: dict) -> dict:
    path = f"$.{spec['name']}"
    stats = store.query_one(
        f"SELECT COUNT(v) AS count, MIN(v) AS min, AVG(v) AS mean, MAX(v) AS max FROM {NUMBERS} WHERE v IS NOT NULL",
        [path, form_id])
    if not stats["count"]:
        return {"stats": stats, "bars": [], "answered": 0}
    low, high = stats["min"], stats["max"]
    width = (high - low) / BINS or 1
    counts = {row["b"]: row["n"] for row in store.query(
        f"SELECT MIN(CAST((v - ?) / ? AS INTEGER), ?) AS b, COUNT(*) AS n FROM {NUMBERS} WHERE v IS NOT NULL"
        " GROUP BY b", [low, width, BINS - 1, path, form_id])}
    edges = [round(low + i * width, 1) for i in range(BINS + 1)]
    bins = [(f"{edges[i]:g}–{edges[i + 1]:g}", counts.get(i, 0)) for i in range(BINS)]
    stats["mean"] = round(stats["mean"], 1)
    return {"stats": stats, **_bars(bins)}
