"""The hub's two review queues (conflicts, quarantine) share one table layout (hub_review.html):
each open row with its decision forms, the empty queue, the decisions taken. Over real HTTP."""

from __future__ import annotations

import re

import pytest

from fieldsync.parts import open_store
from tests.backends import copy_instance
from tests.server.test_hub_attention import seed
from tests.support import in_process

# page: (row attribute, table id, trail id, open rows seeded, forms per row, words for an empty queue)
QUEUES = {
    "conflicts": ("conflict", "open-conflicts", "conflict-trail", 3, 1, "Nothing to review."),
    "quarantine": ("quarantine", "open-quarantine", "quarantine-trail", 2, 2, "Nothing in quarantine."),
}


@pytest.fixture(scope="module")
def hub(city_template, tmp_path_factory):
    path = copy_instance(city_template[0], tmp_path_factory.mktemp("hub-review") / "hub")
    with open_store(path / "fieldsync.db") as store:
        seed(store)
        store.write(lambda db: db.execute("UPDATE conflicts SET lost_value = ? WHERE id = 1",
                                          ['"<b>13800000009</b>"']))
    with in_process(path, ids=city_template[1]) as site:
        yield site


@pytest.fixture(scope="module")
def staff(hub):
    return hub.signed_in("staff")


def table(page: str, table_id: str) -> tuple[int, list[str]]:
    """The number of header cells and the body rows of one table."""
    html = re.search(rf'<table id="{table_id}">(.*?)</table>', page, re.DOTALL).group(1)
    head, body = html.split("</thead>")
    return len(re.findall(r"<th[ >]", head)), re.findall(r"<tr[ >].*?</tr>", body, re.DOTALL)


@pytest.mark.parametrize("name", QUEUES)
def test_each_open_row_has_its_cells_and_decision_forms(staff, name):
    key, table_id, _, seeded, forms, _ = QUEUES[name]
    page = staff.get(f"/hub/{name}?lang=en").text
    columns, rows = table(page, table_id)
    assert len(rows) == seeded and f"({seeded})</h2>" in page
    for row in rows:
        row_id = re.search(rf'data-{key}="(\d+)"', row).group(1)
        assert row.count("<td") == columns
        actions = re.findall(r'<form method="post" action="([^"]+)" class="inline">\s*'
                             r'<input type="hidden" name="csrf_token" value="([^"]+)">', row)
        assert len(actions) == forms and all(token == staff.csrf for _, token in actions)
        assert all(f"/hub/{name}/{row_id}" in action for action, _ in actions)
    assert "&lt;b&gt;13800000009&lt;/b&gt;" in page or name == "quarantine"


@pytest.mark.parametrize("name", QUEUES)
def test_deciding_every_row_empties_the_queue_and_fills_the_trail(staff, name):
    key, table_id, trail_id, seeded, _, empty = QUEUES[name]
    page = staff.get(f"/hub/{name}?lang=en").text
    for row_id in re.findall(rf'data-{key}="(\d+)"', page):
        action, data = ((f"/hub/conflicts/{row_id}", {"choice": "keep"}) if name == "conflicts"
                        else (f"/hub/quarantine/{row_id}/dismiss", {"note": "<script>x</script>"}))
        assert staff.form(action, data).status_code == 200
    page = staff.get(f"/hub/{name}?lang=en").text
    columns, rows = table(page, table_id)
    assert rows == [f'<tr><td colspan="{columns}">{empty}</td></tr>'] and "(0)</h2>" in page
    trail = re.search(rf'<ul id="{trail_id}">(.*?)</ul>', page, re.DOTALL).group(1)
    decisions = re.findall(r"<li>(.*?)</li>", trail, re.DOTALL)
    assert len(decisions) == seeded and all(" · staff · " in d for d in decisions)
    assert "<script>" not in trail
