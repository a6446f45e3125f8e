"""One set of SQL for both backends (decision 0300): the program writes SQLite's dialect, and a
hub on PostgreSQL runs it through `postgres()`, which rewrites what PostgreSQL says otherwise.

What it rewrites, and only this:
- parameters: `?` and `:name` become psycopg's `%s` and `%(name)s` (a literal `%` is doubled);
- `INSERT OR IGNORE` / `INSERT OR REPLACE` / `REPLACE` become `ON CONFLICT` clauses (a replace
  needs the table's unique keys and columns: the caller passes them, `shape_of`);
- SQLite's functions become PostgreSQL's or ours (pg_functions.sql): `json_each`, `json_extract`,
  `date`, `datetime`, `strftime`, `julianday`, `printf`, `substr` → `fs_*` (`date`/`datetime` with
  one literal shift of seconds to days → `fs_date_by`/`fs_datetime_by` and an interval); two-argument
  `min`/`max` → `fs_least`/`fs_greatest` (NULL if either is NULL, as in SQLite); `round` on
  numeric (half away from zero, as SQLite rounds) with a float back; `instr` → `strpos`;
  `json_group_array`/`json_array` → `json_agg`/`json_build_array`; `ifnull` → `COALESCE`;
- `a IS b` (not NULL, TRUE or FALSE) → `a IS NOT DISTINCT FROM b`; `LIKE` → `ILIKE … ESCAPE ''`
  (SQLite's LIKE ignores ASCII case and has no escape character unless one is named); `==` → `=`;
  `LIMIT -1` → `LIMIT ALL`; `WHERE 1` → `WHERE TRUE` (not a simple CASE's `WHEN 1`); a nameless
  subquery in FROM or JOIN gets a name; SQLite's planner hints go (`NOT INDEXED`, `INDEXED BY`, `+column`, `CROSS`).
  `CAST(… AS INTEGER)` → `fs_integer(…)` (64-bit, a real truncated and a text read by its leading
  digits, as SQLite casts), `CAST(… AS REAL)` → `DOUBLE PRECISION`;
- `x [NOT] IN (SELECT value FROM json_each(?))`, the program's way of passing a list, →
  `x [NOT] IN (SELECT unnest(fs_json_array(?)))`: the list made an array by an immutable function
  the planner folds, so it knows how long the list is (for any set-returning function it guesses
  200 rows, and over a big table chose a full scan for a list of two; decision 0440).
The tests in tests/pg/test_dialect.py hold both to the same values (decision 0360).
Everything else is the same in both, and the code keeps to that: booleans are stored as
`CASE … THEN 1 ELSE 0 END`, every grouped column is named in GROUP BY.

DDL is translated in store/ddl.py.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

from fieldsync.store import sql_text
from fieldsync.store.sql_text import Group, Token, tokens


def is_postgres(database: str | None) -> bool:
    """Whether a configured database is a PostgreSQL address (else the instance's own file)."""
    return bool(database) and str(database).startswith(("postgresql://", "postgres://"))


RENAMED = {"json_each": "fs_json_each", "json_extract": "fs_json_extract", "date": "fs_date",
           "datetime": "fs_datetime", "strftime": "fs_strftime", "julianday": "fs_julianday",
           "printf": "fs_printf", "instr": "strpos", "ifnull": "COALESCE", "json_array": "json_build_array",
           "json_array_length": "fs_json_array_length", "substr": "fs_substr"}
TYPES = {"INTEGER": "BIGINT", "INT": "BIGINT", "REAL": "DOUBLE PRECISION", "FLOAT": "DOUBLE PRECISION",
         "DOUBLE": "DOUBLE PRECISION", "NUMERIC": "NUMERIC", "TEXT": "TEXT", "BLOB": "BYTEA",
         "BOOLEAN": "BIGINT"}
_AFTER_CONDITION = {"AND", "OR", "ORDER", "GROUP", "LIMIT", "HAVING", "UNION", "EXCEPT", "INTERSECT", "WINDOW",
                    "RETURNING", "ON", "THEN", "JOIN", "LEFT", "INNER", "CROSS", "WHERE", "DO", ";", ")"}
_NOT_CALLS = {"FROM", "JOIN", "IN", "AS", "VALUES", "ON", "WHERE", "AND", "OR", "NOT", "EXISTS", "SELECT",
              "THEN", "ELSE", "WHEN", "CASE", "BY", "USING", "INTO", "SET", "IS", "UNION", "ALL", "DISTINCT",
              "WITH", "RECURSIVE", "RETURNING", "CONFLICT", "KEY", "CHECK", "REFERENCES", "TABLE", "INDEX",
              "UPDATE", "DO", "OVER", "FILTER", "LIKE", "BETWEEN", "EXCEPT", "INTERSECT", "HAVING", "LIMIT"}


class _Writer:
    def __init__(self, params: bool, shape_of: Callable[[str], list[str]] | None):
        self.params, self.shape_of = params, shape_of
        self.aliases = 0

    def text(self, items: list) -> str:
        return "".join(self.render(items))

    def render(self, items: list) -> list[str]:
        out: list[str] = []
        solid = [i for i, item in enumerate(items) if not (isinstance(item, Token) and item.kind == "space")]

        def after(i: int, n: int = 1):
            at = solid.index(i) + n if i in solid else None
            return items[solid[at]] if at is not None and at < len(solid) else None

        def before(i: int):
            at = solid.index(i) - 1 if i in solid else -1
            return items[solid[at]] if at >= 0 else None

        skip, tails, starts = set(), {}, []
        for i, item in enumerate(items):
            starts.append(len(out))
            if i in skip:
                continue
            if isinstance(item, Group):
                out.append("(" + self.text(item) + ")")
                prev = before(i)
                if (isinstance(prev, Token) and prev.upper in ("FROM", "JOIN") and item
                        and _first_word(item) in ("SELECT", "WITH", "VALUES")):
                    nxt = after(i)
                    if not (isinstance(nxt, Token) and (nxt.kind in ("word", "quoted") and nxt.upper not in
                            ("WHERE", "GROUP", "ORDER", "LIMIT", "ON", "JOIN", "LEFT", "INNER", "CROSS",
                             "UNION", "EXCEPT", "INTERSECT", "HAVING", "WINDOW") or nxt.upper == "AS")):
                        self.aliases += 1
                        out.append(f" AS _q{self.aliases}")
                continue
            word = item.upper
            nxt = after(i)
            if item.kind == "quoted" and item[0] in "[`":
                out.append('"' + item[1:-1] + '"')
            elif item.kind == "param":
                if not self.params:
                    out.append(item)
                elif item.startswith("?"):
                    out.append("%s")
                else:
                    out.append(f"%({item[1:]})s")
            elif item.kind == "string" or (item.kind == "op" and item == "%"):
                out.append(item.replace("%", "%%") if self.params else item)
            elif item == "==":
                out.append("=")
            elif item.kind == "word" and isinstance(nxt, Group) and word not in _NOT_CALLS:
                out.append(self.call(item, nxt))
                skip.add(solid[solid.index(i) + 1])
            elif word == "IS" and nxt is not None:
                target = after(i, 2) if isinstance(nxt, Token) and nxt.upper == "NOT" else nxt
                plain = isinstance(target, Token) and target.upper in ("NULL", "TRUE", "FALSE", "DISTINCT")
                if plain:
                    out.append(item)
                elif isinstance(nxt, Token) and nxt.upper == "NOT":
                    out.append("IS DISTINCT FROM")
                    skip.add(solid[solid.index(i) + 1])
                else:
                    out.append("IS NOT DISTINCT FROM")
            elif item == "+" and item.kind == "op" and _unary(before(i)) and isinstance(nxt, Token):
                pass   # `+column`: SQLite's hint to leave an index aside; PostgreSQL has no + for text
            elif (word == "CROSS" and isinstance(nxt, Token) and nxt.upper == "JOIN"
                  and _ahead(items, solid, solid[solid.index(i) + 1], _JOIN_ENDS)[1] == "ON"):
                pass   # SQLite's CROSS JOIN … ON (keep this join order) is PostgreSQL's JOIN … ON
            elif word == "LIKE":
                out.append("ILIKE")
                end, stop = _ahead(items, solid, i, _OPERAND_ENDS)
                if end is not None and stop != "ESCAPE":   # SQLite's LIKE has no escape character
                    tails[end] = " ESCAPE ''"
            elif word == "NOT" and isinstance(nxt, Token) and nxt.upper == "INDEXED":
                skip.add(solid[solid.index(i) + 1])
            elif word == "INDEXED" and isinstance(nxt, Token) and nxt.upper == "BY":
                skip.update(solid[solid.index(i) + 1:solid.index(i) + 3])   # PostgreSQL's planner picks
            elif word == "LIMIT" and isinstance(nxt, Token) and nxt == "-" and after(i, 2) == "1":
                out.append("LIMIT ALL")
                skip.update(solid[solid.index(i) + 1:solid.index(i) + 3])
            elif (item.kind == "number" and item in ("1", "0") and isinstance(before(i), Token)
                  and before(i).upper in ("WHERE", "AND", "OR", "WHEN", "ON", "HAVING")
                  and not (before(i).upper == "WHEN" and _simple_case(items, i))
                  and (nxt is None or (isinstance(nxt, Token) and nxt.upper in _AFTER_CONDITION))):
                out.append("TRUE" if item == "1" else "FALSE")
            elif word == "BEGIN" and isinstance(nxt, Token) and nxt.upper in ("IMMEDIATE", "DEFERRED", "EXCLUSIVE"):
                out.append("BEGIN")
                skip.add(solid[solid.index(i) + 1])
            else:
                out.append(item)
        for end, text in sorted(tails.items(), reverse=True):   # after an operand, once it is written
            out.insert(starts[end + 1] if end + 1 < len(items) else len(out), text)
        return out

    def call(self, name: Token, group: Group) -> str:
        lower = name.lower()
        args = sql_text.arguments(group)
        inner = self.text(group)
        if lower in ("min", "max") and len(args) >= 2:
            return f"fs_{'least' if lower == 'min' else 'greatest'}({inner})"
        if lower == "round":
            rest = ", " + self.text(args[1]) if len(args) > 1 else ""
            return f"CAST(round(CAST({self.text(args[0])} AS NUMERIC){rest}) AS DOUBLE PRECISION)"
        shift = self.text(args[1]).strip() if lower in ("date", "datetime") and len(args) == 2 else ""
        if _SHIFT.fullmatch(shift):
            return f"fs_{lower}_by({self.text(args[0]).strip()}, interval {shift})"
        if lower == "json_group_array":
            return f"COALESCE(json_agg({inner})::text, '[]')"
        if lower == "cast" and len(args) == 1:
            solid = sql_text.solid(args[0])
            if (len(solid) >= 3 and isinstance(solid[-2], Token) and solid[-2].upper == "AS"
                    and isinstance(solid[-1], Token) and solid[-1].upper in ("INTEGER", "INT", "REAL", "FLOAT")):
                cut = max(i for i, item in enumerate(args[0]) if item is solid[-2])
                if solid[-1].upper in ("INTEGER", "INT"):   # SQLite truncates; PostgreSQL would round
                    return f"fs_integer({self.text(args[0][:cut]).strip()})"
                return f"{name}({self.text(args[0][:cut])}AS {TYPES[solid[-1].upper]})"
        return f"{RENAMED.get(lower, name)}({inner})"


# A literal shift of whole seconds to days (`date(x, '+8 hours')`, the rollups' day of every scan):
# passed as an interval to fs_date_by / fs_datetime_by, which PostgreSQL inlines, where fs_date's
# list of modifiers is a function call a row (three times the cost). Months and years are not
# intervals SQLite's way: they stay with fs_date.
_SHIFT = re.compile(r"'[-+]?\d+ (second|minute|hour|day)s?'", re.IGNORECASE)


_OPERAND_ENDS = _AFTER_CONDITION | {",", "THEN", "ELSE", "END", "WHEN", "ESCAPE", "COLLATE", "IS", "NOT", "=", "<>", "!=",
                                    "<", ">", "<=", ">=", "BETWEEN", "IN", "LIKE", "FROM", "AS"}


def _ahead(items: list, solid: list[int], at: int, stops: set[str]) -> tuple[int | None, str | None]:
    """After items[at], on its level: the index of the last item before the first of `stops`, and that stop."""
    last = None
    for index in solid[solid.index(at) + 1:]:
        item = items[index]
        if isinstance(item, Token) and item.upper in stops:
            return last, item.upper
        last = index
    return last, None


def _unary(previous) -> bool:
    """Whether a + after `previous` is a sign (it follows an operator, a keyword or nothing)."""
    return previous is None or isinstance(previous, Token) and (
        (previous.kind == "op" and previous != ")") or (previous.kind == "word" and previous.upper in _NOT_CALLS))


_JOIN_ENDS = {"ON", "JOIN", "WHERE", "GROUP", "ORDER", "LIMIT", "UNION", "EXCEPT", "INTERSECT", "HAVING", "WINDOW",
              "LEFT", "INNER", "CROSS", "NATURAL", ",", ";"}


def _simple_case(items: list, at: int) -> bool:
    """Whether the WHEN before items[at] is a simple CASE's (`CASE x WHEN 1`: a value, not a truth)."""
    depth = 0
    for index in range(at - 1, -1, -1):
        item = items[index]
        if isinstance(item, Token) and item.upper == "END":
            depth += 1
        elif isinstance(item, Token) and item.upper == "CASE":
            if depth == 0:
                following = sql_text.solid(items[index + 1:])
                return not (following and isinstance(following[0], Token) and following[0].upper == "WHEN")
            depth -= 1
    return False


def _first_word(items: list) -> str | None:
    for item in items:
        if isinstance(item, Token) and item.kind == "word":
            return item.upper
        if isinstance(item, Group):
            return None
    return None


def _replace_clause(table: str, columns: list[str], shape) -> str:
    """SQLite's REPLACE deletes the row in the way and inserts anew: every column it names takes
    the new value, every other its default (an identity column a new number, as SQLite gives a
    new rowid). shape: the table's unique keys (primary first) and its writable columns."""
    if shape is None or not columns:
        raise ValueError(f"INSERT OR REPLACE into {table}: name its columns, and its table must be known")
    key = next((k for k in shape.keys if set(k) <= set(columns)), None)
    if key is None:
        raise ValueError(f"INSERT OR REPLACE into {table}: no unique key among {columns}")
    sets = [f"{c} = EXCLUDED.{c}" if c in columns else f"{c} = DEFAULT" for c in shape.columns if c not in key]
    return f" ON CONFLICT ({', '.join(key)}) DO " + (f"UPDATE SET {', '.join(sets)}" if sets else "NOTHING")


def _insert_conflict(flat: list[Token], shape_of) -> list[Token]:
    """INSERT OR IGNORE / OR REPLACE / REPLACE INTO → INSERT INTO … ON CONFLICT …"""
    solid = [i for i, t in enumerate(flat) if t.kind != "space"]
    if not solid:
        return flat
    first = flat[solid[0]].upper
    if first == "INSERT" and len(solid) > 2 and flat[solid[1]].upper == "OR":
        how, cut = flat[solid[2]].upper, solid[2]
    elif first == "REPLACE":
        how, cut = "REPLACE", solid[0]
    else:
        return flat
    body = [Token("INSERT", "word")] + flat[cut + 1:]
    # INSERT INTO table (columns) …: the table and the columns named
    names = [i for i, t in enumerate(body) if t.kind != "space"]
    table = body[names[2]].strip('"') if len(names) > 2 else ""
    columns: list[str] = []
    if len(names) > 3 and body[names[3]] == "(":
        j = names[3] + 1
        while body[j] != ")":
            if body[j].kind in ("word", "quoted"):
                columns.append(body[j].strip('"'))
            j += 1
    if how == "IGNORE":
        clause = " ON CONFLICT DO NOTHING"
    else:
        clause = _replace_clause(table, columns, shape_of(table) if shape_of else None)
    # before a top-level RETURNING or the end (trailing semicolon and space kept after it)
    depth, at = 0, len(body)
    for i, t in enumerate(body):
        depth += (t == "(") - (t == ")")
        if depth == 0 and t.kind == "word" and t.upper == "RETURNING":
            at = i
            break
    else:
        while at > 0 and (body[at - 1].kind == "space" or body[at - 1] == ";"):
            at -= 1
    return body[:at] + [Token(clause + " ", "space")] + body[at:]


def split(sql: str) -> list[str]:
    """A script's statements, each as its text (a trigger's body stays whole)."""
    return ["".join(statement).strip().rstrip(";") for statement in sql_text.statements(tokens(sql))
            if sql_text.solid(statement) and sql_text.solid(statement) != [";"]]


_KEYWORDS = {"CASE", "WHEN", "THEN", "ELSE", "END", "AND", "OR", "NOT", "NULL", "IS", "IN", "TRUE", "FALSE",
             "DISTINCT", "FROM", "LIKE", "ILIKE", "BETWEEN", "AS", "CAST", "INTEGER", "BIGINT", "TEXT", "REAL",
             "NUMERIC", "DOUBLE", "PRECISION", "WHERE", "EXCLUDED", "SET", "ESCAPE", "COLLATE", "SELECT", "EXISTS"}


def _qualify_upsert(flat: list[Token]) -> list[Token]:
    """In `INSERT INTO t … ON CONFLICT … DO UPDATE SET a = a + excluded.a`, SQLite reads a bare
    column as the row already there; PostgreSQL calls it ambiguous. Name its table."""
    words = [(i, t) for i, t in enumerate(flat) if t.kind != "space"]
    if len(words) < 3 or words[0][1].upper != "INSERT" or words[1][1].upper != "INTO":
        return flat
    table = words[2][1]
    start = None
    for n in range(len(words) - 2):
        if (words[n][1].upper, words[n + 1][1].upper, words[n + 2][1].upper) == ("DO", "UPDATE", "SET"):
            start = n + 3
    if start is None:
        return flat
    out = list(flat)
    depth, skip_depth, left_side = 0, None, True
    for n in range(start, len(words)):
        i, t = words[n]
        prev = words[n - 1][1]
        nxt = words[n + 1][1] if n + 1 < len(words) else None
        if t == "(":
            depth += 1
            if skip_depth is None and nxt is not None and nxt.upper in ("SELECT", "WITH"):
                skip_depth = depth
            continue
        if t == ")":
            if skip_depth == depth:
                skip_depth = None
            depth -= 1
            continue
        if depth == 0 and t.kind == "word" and t.upper == "RETURNING":
            break
        if skip_depth is not None:
            continue
        if depth == 0 and t == ",":
            left_side = True
            continue
        if t.kind != "word":
            continue
        if left_side and nxt == "=":
            left_side = False
            continue
        if depth == 0 and t.upper == "WHERE":
            left_side = False
        if prev == "." or nxt in (".", "(") or t.upper in _KEYWORDS:
            continue
        out[i] = Token(f"{table}.{t}", "word")
    return out


_LIST = ("IN", "(", "SELECT", "VALUE", "FROM", "JSON_EACH", "(", None, ")", ")")   # None: the parameter


def _in_lists(flat: list[Token]) -> list[Token]:
    """`IN (SELECT value FROM json_each(?))` as `IN (SELECT unnest(fs_json_array(?)))`, read as
    tokens, so the same words inside a string or a comment stay as they are."""
    solid = [i for i, token in enumerate(flat) if token.kind != "space"]
    out, done = [], 0
    for n, i in enumerate(solid):
        run = [flat[j] for j in solid[n:n + len(_LIST)]]
        if i >= done and len(run) == len(_LIST) and all(
                token.kind == "param" if want is None else token.upper == want for token, want in zip(run, _LIST)):
            out += flat[done:i] + tokens(f"IN (SELECT unnest(fs_json_array({run[7]})))")
            done = solid[n + len(_LIST) - 1] + 1
    return out + flat[done:]


@lru_cache(maxsize=4096)
def _translate(sql: str, params: bool, shape_of: Callable[[str], list[str]] | None) -> str:
    out = []
    for statement in sql_text.statements(_in_lists(tokens(sql))):
        statement = _qualify_upsert(_insert_conflict(statement, shape_of))
        out.append(_Writer(params, shape_of).text(sql_text.nest(statement)))
    return "".join(out)


def postgres(sql: str, *, params: bool = True, shape_of: Callable[[str], list[str]] | None = None) -> str:
    """sql as PostgreSQL reads it. params False: a statement run without parameters (DDL, a
    script), whose `%` stays as it is."""
    return _translate(sql, params, shape_of)
