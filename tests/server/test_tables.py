"""Every table cell carries its column's heading, for the phone's card layout (decision 0110)."""

from __future__ import annotations

import re

from fieldsync.server.tables import card_labels


def labels(html: str) -> list[list[str | None]]:
    rows = re.findall(r"<tbody>(.*?)</tbody>", html, re.DOTALL)[0].split("</tr>")[:-1]
    return [[m.group(1) for m in re.finditer(r'<t[dh]\b(?:[^>]*data-label="([^"]*)")?[^>]*>', row)]
            for row in rows]


def test_cells_take_their_column_heading_counting_spans_and_leaving_messages_actions_and_blanks_bare():
    page = card_labels("""<p>before</p><table class="history"><thead><tr><th>姓名</th>
        <th colspan="2">村 <small>(社区)</small> &amp; 镇</th><th class="num">次数</th><th></th></tr></thead>
      <tbody><tr><td><a href="/p/1">王芳</a></td><td>上疃村</td><td>张村镇</td><td class="num">3</td>
        <td><form><button>注销</button></form></td></tr>
      <tr><th scope="row">李强</th><td colspan="2">—</td><td>
        </td><td></td></tr>
      <tr><td colspan="5">没有符合条件的人员。</td></tr></tbody></table>""")
    assert labels(page) == [["姓名", "村 (社区) &amp; 镇", "村 (社区) &amp; 镇", "次数", None],
                            ["姓名", None, None, None],
                            [None]]
    assert '<table class="history">' in page and "<p>before</p>" in page
    assert "<td></td><td></td></tr>" in page  # a blank cell is empty, so the card leaves it out


def test_a_table_without_a_heading_row_and_a_label_already_given_stay_as_they_are():
    bare = "<table><tbody><tr><td>1</td></tr></tbody></table>"
    assert card_labels(bare) == bare
    given = ('<table><thead><tr><th>A</th><th>B</th></tr></thead>'
             '<tbody><tr><td data-label="a">1</td><td>2</td></tr></tbody></table>')
    assert card_labels(given) == given.replace("<td>2", '<td data-label="B">2')


def test_the_staff_pages_label_their_cells(staff):
    people = staff.get("/people").text
    assert re.search(r'<td data-label="姓名"><a href="/people/\w+">', people)
    assert '<td data-label="手机号">' in people
