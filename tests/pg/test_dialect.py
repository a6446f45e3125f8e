"""The dialect layer (decision 0300): the SQLite SQL the program writes, as PostgreSQL reads it.

First what `dialect.postgres` and `ddl` write for each construct they rewrite (no server needed);
then the same SQLite expressions evaluated by sqlite3 and by a hub's PostgreSQL database
(`PgStore` on a database made by open_store), which must give the same values. Where the two
differ in a way the program never relies on, the difference is written down and asserted
(`test_documented_differences`), so it is known rather than found.
"""

from __future__ import annotations

import json
import math
import sqlite3
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fieldsync.parts import open_store
from fieldsync.store import clock, ddl
from fieldsync.store.dialect import postgres, split
from tests.backends import postgres_url


def words(sql: str) -> str:
    return " ".join(sql.split())


# -- parameters and literals ---------------------------------------------------------------------

def test_parameters_positional_and_named_become_psycopgs():
    assert words(postgres("SELECT * FROM t WHERE a = ? AND b = ?")) == "SELECT * FROM t WHERE a = %s AND b = %s"
    assert words(postgres("SELECT * FROM t WHERE a = :id OR b = :id")) == \
        "SELECT * FROM t WHERE a = %(id)s OR b = %(id)s"


def test_percent_in_literals_and_operators_is_doubled_only_with_parameters():
    sql = "SELECT '50%', a % 2, '%s' FROM t WHERE flags LIKE '%double%' AND b = ?"
    assert words(postgres(sql)) == \
        "SELECT '50%%', a %% 2, '%%s' FROM t WHERE flags ILIKE '%%double%%' ESCAPE '' AND b = %s"
    assert "'50%'" in postgres("SELECT '50%' FROM t", params=False)


def test_a_question_mark_or_colon_inside_a_literal_is_no_parameter():
    assert words(postgres("SELECT 'why?', ':name', \"a?\" FROM t WHERE x = ?")) == \
        "SELECT 'why?', ':name', \"a?\" FROM t WHERE x = %s"


def test_comments_go_and_nothing_ends_up_behind_them():
    sql = "SELECT a -- the first; it's 100% ours\nFROM t /* a ? here */ WHERE b = ?"
    assert words(postgres(sql)) == "SELECT a FROM t WHERE b = %s"


def test_bracket_and_backtick_quoted_identifiers_become_double_quoted():
    assert words(postgres("SELECT [order], `group` FROM [my table]")) == 'SELECT "order", "group" FROM "my table"'


# -- INSERT OR IGNORE / OR REPLACE ---------------------------------------------------------------

def test_insert_or_ignore_with_and_without_returning():
    assert words(postgres("INSERT OR IGNORE INTO t (a, b) VALUES (?, ?)")) == \
        "INSERT INTO t(a, b) VALUES (%s, %s) ON CONFLICT DO NOTHING"
    assert words(postgres("INSERT OR IGNORE INTO t (a) VALUES (:a) RETURNING id;")) == \
        "INSERT INTO t(a) VALUES (%(a)s) ON CONFLICT DO NOTHING RETURNING id;"
    assert words(postgres("INSERT OR IGNORE INTO t (a) SELECT x FROM u WHERE y = ?")) == \
        "INSERT INTO t(a) SELECT x FROM u WHERE y = %s ON CONFLICT DO NOTHING"


SHAPES = {"people": SimpleNamespace(keys=[["id"], ["town", "badge"]],
                                    columns=["id", "town", "badge", "name", "phone"]),
          "meta": SimpleNamespace(keys=[["key"]], columns=["key", "value"]),
          "marks": SimpleNamespace(keys=[["a", "b"]], columns=["a", "b"])}


def test_insert_or_replace_takes_the_unique_key_whose_columns_it_names_and_resets_the_others():
    by_id = words(postgres("INSERT OR REPLACE INTO people (id, name) VALUES (?, ?)", shape_of=SHAPES.get))
    assert by_id == ("INSERT INTO people(id, name) VALUES (%s, %s) ON CONFLICT (id) DO UPDATE SET"
                     " town = DEFAULT, badge = DEFAULT, name = EXCLUDED.name, phone = DEFAULT")
    by_badge = words(postgres("REPLACE INTO people (town, badge, name) VALUES (?, ?, ?)", shape_of=SHAPES.get))
    assert by_badge == ("INSERT INTO people(town, badge, name) VALUES (%s, %s, %s) ON CONFLICT (town, badge)"
                        " DO UPDATE SET id = DEFAULT, name = EXCLUDED.name, phone = DEFAULT")
    assert words(postgres("INSERT OR REPLACE INTO meta (key, value) VALUES ('k', ?)", shape_of=SHAPES.get)) == \
        "INSERT INTO meta(key, value) VALUES ('k', %s) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value"
    assert words(postgres("INSERT OR REPLACE INTO marks (a, b) VALUES (?, ?)", shape_of=SHAPES.get)).endswith(
        "ON CONFLICT (a, b) DO NOTHING")


@pytest.mark.parametrize("sql", ["INSERT OR REPLACE INTO people (name) VALUES (?)",
                                 "INSERT OR REPLACE INTO people VALUES (?, ?, ?, ?, ?)",
                                 "INSERT OR REPLACE INTO unknown (a) VALUES (?)"])
def test_insert_or_replace_without_a_key_it_can_name_is_refused_in_words(sql):
    with pytest.raises(ValueError, match="INSERT OR REPLACE"):
        postgres(sql, shape_of=SHAPES.get)


# -- upserts: a bare column is the row already there --------------------------------------------

def test_upsert_qualifies_bare_columns_but_not_excluded_nor_subqueries():
    sql = ("INSERT INTO totals (k, n, top) VALUES (?, ?, ?) ON CONFLICT (k) DO UPDATE SET"
           " n = n + excluded.n, top = max(top, excluded.top),"
           " seen = (SELECT COUNT(*) FROM marks WHERE marks.a = k), note = 'n'"
           " WHERE n < excluded.n RETURNING n")
    assert words(postgres(sql)) == (
        "INSERT INTO totals(k, n, top) VALUES (%s, %s, %s) ON CONFLICT (k) DO UPDATE SET"
        " n = totals.n + excluded.n, top = fs_greatest(totals.top, excluded.top),"
        " seen = (SELECT COUNT(*) FROM marks WHERE marks.a = k), note = 'n'"
        " WHERE totals.n < excluded.n RETURNING n")


# -- conditions -----------------------------------------------------------------------------------

def test_is_and_is_not_between_values_become_distinct_from_but_not_before_null_or_truth():
    sql = "SELECT 1 FROM t WHERE a IS ? AND b IS NOT c AND d IS NULL AND e IS NOT NULL AND f IS TRUE"
    assert words(postgres(sql)) == ("SELECT 1 FROM t WHERE a IS NOT DISTINCT FROM %s AND b IS DISTINCT FROM c"
                                    " AND d IS NULL AND e IS NOT NULL AND f IS TRUE")


def test_like_ignores_ascii_case_and_has_no_escape_unless_one_is_named():
    assert words(postgres("SELECT 1 FROM t WHERE name LIKE ? AND x = 1")) == \
        "SELECT 1 FROM t WHERE name ILIKE %s ESCAPE '' AND x = 1"
    assert words(postgres("SELECT 1 FROM t WHERE a NOT LIKE '%' || lower(?) || '%' ORDER BY a")) == \
        "SELECT 1 FROM t WHERE a NOT ILIKE '%%' || lower(%s) || '%%' ESCAPE '' ORDER BY a"
    assert words(postgres("SELECT name FROM m WHERE name LIKE 'rollup!_%' ESCAPE '!'")) == \
        "SELECT name FROM m WHERE name ILIKE 'rollup!_%%' ESCAPE '!'"
    assert words(postgres("SELECT CASE WHEN a LIKE ? THEN 1 ELSE 0 END, (b LIKE ?) FROM t")) == \
        "SELECT CASE WHEN a ILIKE %s ESCAPE '' THEN 1 ELSE 0 END, (b ILIKE %s ESCAPE '') FROM t"


def test_where_1_limit_minus_1_and_double_equals():
    assert words(postgres("SELECT a FROM t WHERE 1 AND a == ? LIMIT -1 OFFSET 5")) == \
        "SELECT a FROM t WHERE TRUE AND a = %s LIMIT ALL OFFSET 5"
    assert words(postgres("SELECT a FROM t JOIN u ON 1 WHERE 0 OR b = 1")) == \
        "SELECT a FROM t JOIN u ON TRUE WHERE FALSE OR b = 1"


def test_when_1_is_a_truth_in_a_searched_case_and_a_value_in_a_simple_one():
    assert words(postgres("SELECT CASE WHEN 1 THEN 1 END, CASE a WHEN 1 THEN 2 WHEN 0 THEN 3 END FROM t")) == \
        "SELECT CASE WHEN TRUE THEN 1 END, CASE a WHEN 1 THEN 2 WHEN 0 THEN 3 END FROM t"
    assert words(postgres("SELECT CASE WHEN x THEN CASE y WHEN 1 THEN 1 END WHEN 0 THEN 2 END FROM t")) == \
        "SELECT CASE WHEN x THEN CASE y WHEN 1 THEN 1 END WHEN FALSE THEN 2 END FROM t"


def test_sqlites_planner_hints_become_plain_sql():
    """`+column` (leave its index aside) and `CROSS JOIN … ON` (keep this order) mean nothing more."""
    assert words(postgres("SELECT a + b, -a, +c.town FROM t WHERE (+s.town IN (SELECT 1)) AND a = +5")) == \
        "SELECT a + b, -a, c.town FROM t WHERE (s.town IN (SELECT 1)) AND a = 5"
    assert words(postgres("SELECT * FROM d CROSS JOIN sessions s ON s.id = d.session_id WHERE 1")) == \
        "SELECT * FROM d JOIN sessions s ON s.id = d.session_id WHERE TRUE"
    assert words(postgres("SELECT * FROM d CROSS JOIN s WHERE s.a = d.a")) == "SELECT * FROM d CROSS JOIN s WHERE s.a = d.a"


# -- functions ------------------------------------------------------------------------------------

def test_two_argument_min_and_max_are_least_and_greatest_but_aggregates_stay():
    assert words(postgres("SELECT min(a, b), MAX(a, 3), MIN(c), max(d) FROM t")) == \
        "SELECT fs_least(a, b), fs_greatest(a, 3), MIN(c), max(d) FROM t"


def test_round_is_on_numeric_with_a_float_back():
    assert words(postgres("SELECT round(x), ROUND(x * 60, 1) FROM t")) == (
        "SELECT CAST(round(CAST(x AS NUMERIC)) AS DOUBLE PRECISION),"
        " CAST(round(CAST(x * 60 AS NUMERIC), 1) AS DOUBLE PRECISION) FROM t")


def test_casts_to_integer_truncate_and_to_real_are_doubles():
    assert words(postgres("SELECT CAST(x AS INTEGER), CAST((v - ?) / ? AS INT), CAST(y AS REAL), "
                          "CAST(z AS TEXT) FROM t")) == \
        "SELECT fs_integer(x), fs_integer((v - %s) / %s), CAST(y AS DOUBLE PRECISION), CAST(z AS TEXT) FROM t"


def test_sqlites_functions_become_their_fs_twins():
    sql = ("SELECT date(a, '+8 hours'), datetime(a), strftime('%Y', a), julianday(a), printf('%d', n),"
           " instr(a, '/'), ifnull(a, ''), json_extract(d, '$.a'), json_array_length(d),"
           " json_group_array(a), json_array(a, b), substr(a, 1, 4) FROM t, json_each(?)")
    assert words(postgres(sql)) == (
        "SELECT fs_date_by(a, interval '+8 hours'), fs_datetime(a), fs_strftime('%%Y', a), fs_julianday(a),"
        " fs_printf('%%d', n), strpos(a, '/'), COALESCE(a, ''), fs_json_extract(d, '$.a'),"
        " fs_json_array_length(d), COALESCE(json_agg(a)::text, '[]'), json_build_array(a, b), fs_substr(a, 1, 4)"
        " FROM t, fs_json_each(%s)")


def test_words_before_a_parenthesis_that_are_no_functions_stay():
    sql = "SELECT a FROM t WHERE a IN (SELECT b FROM u) AND EXISTS (SELECT 1) AND NOT (c = 1)"
    assert words(postgres(sql)) == sql


def test_a_list_passed_as_json_becomes_an_array_the_planner_can_count():
    sql = ("SELECT id FROM t WHERE id IN (SELECT value FROM json_each(?)) AND town NOT IN"
           " ( SELECT value FROM json_each(:towns) ) AND k IN (SELECT value FROM json_each(?) WHERE value > 1)")
    assert words(postgres(sql)) == (
        "SELECT id FROM t WHERE id IN (SELECT unnest(fs_json_array(%s))) AND town NOT IN"
        " (SELECT unnest(fs_json_array(%(towns)s))) AND k IN (SELECT value FROM fs_json_each(%s)"
        " WHERE value > 1)")
    inside = "SELECT 'id IN (SELECT value FROM json_each(?))' -- IN (SELECT value FROM json_each(?))\n"
    assert words(postgres(inside)) == "SELECT 'id IN (SELECT value FROM json_each(?))'"   # a string, a comment


# -- subqueries --------------------------------------------------------------------------------

def test_a_subquery_in_from_or_join_without_a_name_gets_one():
    sql = "SELECT * FROM (SELECT 1 AS a) JOIN (SELECT 2 AS b) ON 1 WHERE a IN (SELECT 3)"
    assert words(postgres(sql)) == \
        "SELECT * FROM (SELECT 1 AS a) AS _q1 JOIN (SELECT 2 AS b) AS _q2 ON TRUE WHERE a IN (SELECT 3)"
    named = "SELECT * FROM (SELECT 1 AS a) x JOIN (SELECT 2 AS b) AS y ON x.a = y.b"
    assert words(postgres(named)) == named
    assert words(postgres("SELECT COUNT(v) FROM (SELECT v FROM t) WHERE v IS NOT NULL")) == \
        "SELECT COUNT(v) FROM (SELECT v FROM t) AS _q1 WHERE v IS NOT NULL"


# -- scripts, DDL, triggers -------------------------------------------------------------------

TRIGGER = """CREATE TRIGGER rollup_in AFTER INSERT ON checkins WHEN NEW.kind IS NOT 'test' BEGIN
    INSERT INTO totals (k, n) VALUES (NEW.k, CASE WHEN NEW.a LIKE 'z%' THEN 1 ELSE 0 END)
        ON CONFLICT (k) DO UPDATE SET n = n + excluded.n;  -- count it; once
    UPDATE totals SET top = CASE NEW.b WHEN 1 THEN top ELSE 0 END WHERE k = NEW.k;
END"""


def test_a_script_splits_on_semicolons_but_keeps_a_triggers_body_with_its_cases_whole():
    parts = split(f"CREATE TABLE a (x TEXT); {TRIGGER}; CREATE INDEX a_x ON a(x);")
    assert [p.split()[:2] for p in parts] == [["CREATE", "TABLE"], ["CREATE", "TRIGGER"], ["CREATE", "INDEX"]]
    assert parts[1].rstrip().endswith("END")


def test_a_trigger_is_a_plpgsql_function_and_the_trigger_that_calls_it_for_each_row():
    function, trigger = ddl.trigger_ddl(TRIGGER)
    assert function.startswith("CREATE OR REPLACE FUNCTION rollup_in() RETURNS trigger LANGUAGE plpgsql")
    body = words(function)
    assert "ON CONFLICT (k) DO UPDATE SET n = totals.n + excluded.n;" in body
    assert "CASE WHEN NEW.a ILIKE 'z%' ESCAPE '' THEN 1 ELSE 0 END" in body   # no parameters: % stays
    assert "CASE NEW.b WHEN 1 THEN top ELSE 0 END WHERE k = NEW.k;" in body
    assert body.endswith("RETURN NULL; END $fs$")
    assert words(trigger) == ("CREATE OR REPLACE TRIGGER rollup_in AFTER INSERT ON checkins FOR EACH ROW"
                              " WHEN (NEW.kind IS DISTINCT FROM 'test') EXECUTE FUNCTION rollup_in()")


def test_create_table_types_keys_generated_columns_and_foreign_keys_apart():
    table, own_rowid, foreign = ddl.table_ddl(
        "CREATE TABLE [order lines] (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL,"
        " session_id TEXT REFERENCES sessions(id) ON DELETE CASCADE, flag INTEGER DEFAULT 0, x REAL,"
        " data BLOB, lower_name TEXT GENERATED ALWAYS AS (lower(name)) VIRTUAL,"
        " FOREIGN KEY (name) REFERENCES [people](id), UNIQUE (name, session_id))")
    assert words(table) == (
        'CREATE TABLE "order lines" (id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, name TEXT NOT NULL,'
        " session_id TEXT, flag BIGINT DEFAULT 0, x DOUBLE PRECISION, data BYTEA,"
        " lower_name TEXT GENERATED ALWAYS AS (lower(name)) STORED, UNIQUE(name, session_id))")
    assert own_rowid is False
    assert [words(f) for f in foreign] == [
        'ALTER TABLE "order lines" ADD FOREIGN KEY (session_id) REFERENCES sessions(id) ON DELETE CASCADE',
        'ALTER TABLE "order lines" ADD FOREIGN KEY (name) REFERENCES "people"(id)']


def test_a_table_without_an_integer_key_gets_a_rowid_unless_without_rowid():
    table, own_rowid, _ = ddl.table_ddl("CREATE TABLE IF NOT EXISTS t (k TEXT, v TEXT)")
    assert own_rowid and table.endswith("rowid BIGINT GENERATED BY DEFAULT AS IDENTITY UNIQUE)")
    table, own_rowid, _ = ddl.table_ddl("CREATE TABLE t (k TEXT PRIMARY KEY, v TEXT) WITHOUT ROWID")
    assert not own_rowid and "rowid" not in table


def test_add_column_gets_the_same_types():
    assert words(ddl.add_column("ALTER TABLE t ADD COLUMN flag INTEGER NOT NULL DEFAULT 0")) == \
        "ALTER TABLE t ADD COLUMN flag BIGINT NOT NULL DEFAULT 0"
    assert words(ddl.add_column("ALTER TABLE t ADD share REAL")) == "ALTER TABLE t ADD share DOUBLE PRECISION"


# == the same value on both: sqlite3 and a hub's PostgreSQL database ============================

LITE = sqlite3.connect(":memory:", check_same_thread=False)
EXAMPLES = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(scope="module")
def hub_store(tmp_path_factory):
    """A hub's store on PostgreSQL, made as every hub's is (open_store)."""
    store = open_store(tmp_path_factory.mktemp("pg") / "fieldsync.db", hub=True, database=postgres_url())
    yield store
    store.close()


@pytest.fixture(scope="module")
def pg(hub_store):
    return hub_store.db


def _typed(rows: list[tuple]) -> list[tuple]:
    """Each value with its Python type (a truth is 0 or 1 on both, never a bool)."""
    return [tuple((type(v).__name__, v) for v in row) for row in rows]


def both(pg, sql: str, params=()) -> tuple[list[tuple], list[tuple]]:
    return LITE.execute(sql, params).fetchall(), pg.execute(sql, params).fetchall()


def same(pg, sql: str, params=()) -> list[tuple]:
    """The rows sql gives on SQLite, asserted to be what PostgreSQL gives, value and type."""
    want, got = both(pg, sql, params)
    assert _typed(got) == _typed(want), f"{sql} {params}"
    return want


# Times as the program writes them: clock.utc_text (UTC, milliseconds, Z), a session's China wall
# time to the minute, with seconds or a zone, and a plain day.
moments = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31)).map(
    lambda at: at.replace(microsecond=at.microsecond // 1000 * 1000))
SHAPES_OF_TIME = {
    "utc": lambda at: clock.utc_text(at.replace(tzinfo=UTC)),
    "utc seconds": lambda at: at.strftime("%Y-%m-%dT%H:%M:%SZ"),
    "china": lambda at: at.strftime("%Y-%m-%dT%H:%M:%S+08:00"),
    "minute": lambda at: at.strftime("%Y-%m-%dT%H:%M"),
    "space": lambda at: at.strftime("%Y-%m-%d %H:%M:%S"),
    "day": lambda at: at.strftime("%Y-%m-%d"),
}
times = st.builds(lambda at, shape: SHAPES_OF_TIME[shape](at), moments, st.sampled_from(sorted(SHAPES_OF_TIME)))


@EXAMPLES
@given(at=times, hours=st.integers(-48, 48), minutes=st.integers(-3000, 3000))
def test_date_and_datetime_with_hours_and_minutes_added(pg, at, hours, minutes):
    same(pg, "SELECT date(?), datetime(?), date(?, ?), datetime(?, ?), date(?, '+8 hours')",
         [at, at, at, f"{hours:+d} hours", at, f"{minutes:+d} minutes", at])
    # the same shifts written into the SQL, as the rollups write theirs (fs_date_by)
    same(pg, f"SELECT date(?, '{hours:+d} hours'), datetime(?, '{minutes:+d} minutes'), date(?, '{hours} days'),"
             f" datetime(?, '{minutes} second')", [at, at, at, at])


@EXAMPLES
@given(at=times, hours=st.integers(0, 2400).map(lambda n: n / 100), offset_ms=st.integers(-10**7, 10**7))
def test_strftime_in_the_formats_the_program_uses(pg, at, hours, offset_ms):
    same(pg, "SELECT strftime('%Y-%m-%dT%H:%M', ?, '+' || CAST(ROUND(? * 60) AS INTEGER) || ' minutes'),"
             " strftime('%Y', ?), strftime('%Y-%m-%dT%H:%M:%fZ', ?, printf('%+.3f seconds', ? / 1000.0)),"
             " strftime('%Y-%m-%d %H:%M:%S %j %w %s %%', ?)",
         [at, hours, at, at, offset_ms, at])


def test_a_truth_is_1_or_0_and_a_sum_of_truths_a_count(pg):
    same(pg, "SELECT 1 < 2, 2 < 1, NULL IS NULL, SUM(CAST(value AS INTEGER) > 1), COUNT(*) FILTER (WHERE CAST(value AS INTEGER) = 2)"
             " FROM json_each('[1, 2, 3]')")


def test_a_text_that_is_no_time_is_null_not_an_error(pg):
    same(pg, "SELECT date('2024-13-01'), datetime('2024-01-01T10:00:60'), julianday('2024-1-01'),"
             " strftime('%Y', '2024-01-01T10:00:00+0800'), date('x'), date(NULL), date(''), date('2024-06-01', 'bogus')")


half_minutes = st.integers(0, 2 * 1440).map(lambda n: n * 30_000)
gaps_ms = st.one_of(st.integers(0, 2 * 86_400_000), half_minutes,
                    st.tuples(half_minutes, st.sampled_from([-1, 1])).map(sum))


@EXAMPLES
@given(start=moments, gap_ms=gaps_ms)
def test_minutes_between_two_scans_round_alike(pg, start, gap_ms):
    first = clock.utc_text(start.replace(tzinfo=UTC))
    last = clock.utc_text(start.replace(tzinfo=UTC) + timedelta(milliseconds=gap_ms))
    same(pg, "SELECT julianday(?), ROUND((julianday(?) - julianday(?)) * 1440),"
             " CAST(ROUND((julianday(?) - julianday(?)) * 1440) AS INTEGER)",
         [first, last, first, last, first])


json_text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=12)


@EXAMPLES
@given(values=st.lists(json_text, max_size=8))
def test_json_each_over_strings(pg, values):
    doc = json.dumps(values, ensure_ascii=False)
    want, got = both(pg, "SELECT value FROM json_each(?)", [doc])
    assert sorted(got) == sorted(want) == sorted((v,) for v in values)
    same(pg, "SELECT COUNT(*), json_array_length(?) FROM json_each(?)", [doc, doc])
    if values:
        same(pg, "SELECT ? IN (SELECT value FROM json_each(?))", [values[-1], doc])


@EXAMPLES
@given(values=st.lists(st.one_of(st.none(), json_text), max_size=5), probe=st.one_of(st.none(), json_text))
def test_in_and_not_in_a_json_list_answer_alike_with_nulls_and_empty_lists(pg, values, probe):
    doc = json.dumps(values, ensure_ascii=False)
    same(pg, "SELECT ? IN (SELECT value FROM json_each(?)), ? NOT IN (SELECT value FROM json_each(?))",
         [probe, doc, probe, doc])


def test_the_planner_counts_a_list_passed_as_json(pg):
    """Decision 0440: the planner knows a list of two is two rows, where it guessed 200."""
    sql = postgres("SELECT x FROM (SELECT 'a' AS x) AS t WHERE x IN (SELECT value FROM json_each(?))")
    plan = pg.native("EXPLAIN (FORMAT JSON) " + sql.replace("%s", "'[\"a\", \"b\"]'")).fetchone()[0]
    rows = []

    def walk(node):
        if node["Node Type"] == "ProjectSet":
            rows.append(node["Plan Rows"])
        for child in node.get("Plans", []):
            walk(child)
    walk(plan[0]["Plan"])
    assert rows and set(rows) == {2}, plan


@EXAMPLES
@given(numbers=st.lists(st.one_of(st.none(), st.integers(-10**12, 10**12)), max_size=8))
def test_json_each_over_integers_and_their_sum_min_max_and_average(pg, numbers):
    doc = json.dumps(numbers)
    cast = "CAST(value AS INTEGER)"
    same(pg, f"SELECT SUM({cast}), MIN({cast}), MAX({cast}), COUNT({cast}), COUNT(*) FROM json_each(?)", [doc])
    (want,), (got,) = both(pg, f"SELECT AVG({cast}) FROM json_each(?)", [doc])
    assert type(got[0]) is type(want[0])
    assert want[0] is None or math.isclose(got[0], want[0], rel_tol=1e-15)


@EXAMPLES
@given(rows=st.lists(st.fixed_dictionaries({"id": json_text, "n": st.integers(-1000, 1000)}), max_size=6))
def test_json_each_over_objects_read_with_json_extract(pg, rows):
    doc = json.dumps(rows)
    want, got = both(pg, "SELECT json_extract(value, '$.id'), CAST(json_extract(value, '$.n') AS INTEGER)"
                         " FROM json_each(?)", [doc])
    assert sorted(got) == sorted(want)


@EXAMPLES
@given(a=json_text, b=json_text, c=json_text, key=st.text(st.sampled_from("a_. 1$[]"), min_size=1, max_size=5))
def test_json_extract_paths(pg, a, b, c, key):
    doc = json.dumps({"a": {"b": a}, "c": [b, {"d": c}], "e": None, "promotes": "level_3", key: a})
    same(pg, "SELECT json_extract(?, '$.a.b'), json_extract(?, '$.c[0]'), json_extract(?, '$.c[1].d'),"
             " json_extract(?, '$.e'), json_extract(?, '$.missing'), json_extract(?, '$.c[5]'),"
             " json_extract(?, '$.promotes') IS NOT NULL, json_extract(?, ?)", [doc] * 8 + [f'$."{key}"'])


def test_now_is_the_statements_time_as_in_sqlite(hub_store):
    """Two statements of one write read two times: SQLite's 'now' is the statement's, not the
    transaction's start (a long write would stamp its last rows with its first moment)."""
    def two_readings(db):
        first = db.execute("SELECT strftime('%Y-%m-%dT%H:%M:%fZ', 'now')").fetchone()[0]
        db.execute("SELECT pg_sleep(0.02)")
        return first, db.execute("SELECT strftime('%Y-%m-%dT%H:%M:%fZ', 'now')").fetchone()[0]

    first, second = hub_store.write(two_readings)
    assert first < second


maybe_numbers = st.one_of(st.none(), st.integers(-10**9, 10**9))


@EXAMPLES
@given(a=maybe_numbers, b=st.integers(-10**9, 10**9))
def test_two_argument_min_and_max_are_null_when_either_is(pg, a, b):
    same(pg, "SELECT min(?, ?), max(?, ?), min(?, 5), max(7, ?)", [a, b, b, a, a, a])


@EXAMPLES
@given(offset_ms=st.integers(-10**8, 10**8))
def test_printf_of_a_clock_offset_in_seconds(pg, offset_ms):
    same(pg, "SELECT printf('%+.3f seconds', ? / 1000.0)", [offset_ms])


like_text = st.text(st.sampled_from("aAbBzZ09éÉ中·%_\\ "), max_size=6)


@EXAMPLES
@given(value=like_text, pattern=like_text)
def test_like_ignores_ascii_case_only_and_knows_no_escape(pg, value, pattern):
    same(pg, "SELECT ? LIKE ?, ? LIKE '%' || ? || '%', ? NOT LIKE ?", [value, pattern, value, pattern, value, pattern])


CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
ulids = st.text(st.sampled_from(CROCKFORD), min_size=26, max_size=26)
hlcs = st.builds(lambda ms, n, node: f"{ms:016d}-{n:05d}-{node}", st.integers(0, 10**15), st.integers(0, 99999),
                 st.text(st.sampled_from("abcdef0123456789"), min_size=4, max_size=8))
names = st.text(st.one_of(st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF),
                          st.characters(min_codepoint=0x20000, max_codepoint=0x2A6DF), st.sampled_from("·ABab")),
                min_size=1, max_size=4)


@EXAMPLES
@given(texts=st.lists(st.one_of(ulids, hlcs, names), min_size=2, max_size=8))
def test_text_sorts_by_code_point(pg, texts):
    doc = json.dumps(texts, ensure_ascii=False)
    same(pg, "SELECT value FROM json_each(?) ORDER BY value", [doc])
    same(pg, "SELECT ? < ?, ? > ?, MIN(value), MAX(value) FROM json_each(?)", [texts[0], texts[1]] * 2 + [doc])


@EXAMPLES
@given(a=st.integers(-10**12, 10**12), b=st.integers(-10**6, 10**6).filter(bool))
def test_integer_division_and_remainder(pg, a, b):
    same(pg, "SELECT ? / ?, ? % ?, CAST(? AS INTEGER) / 7", [a, b, a, b, str(a)])


@EXAMPLES
@given(hundredths=st.integers(0, 100_000), minutes=st.integers(-10_000, 10_000), x=st.floats(-1e9, 1e9))
def test_round_gives_floats_rounded_half_away_from_zero(pg, hundredths, minutes, x):
    hours = hundredths / 100
    same(pg, "SELECT ROUND(? * 60), CAST(ROUND(? * 60) AS INTEGER), ROUND(? / 60.0, 1), ROUND(?), CAST(? AS INTEGER)",
         [hours, hours, minutes, x, x])


@EXAMPLES
@given(value=st.one_of(st.none(), st.text("ab/中𪚥", max_size=8)), start=st.integers(-10, 10),
       length=st.one_of(st.none(), st.integers(-10, 10)))
def test_substr_counts_as_sqlite_does_from_either_end_and_backwards(pg, value, start, length):
    same(pg, "SELECT substr(?, ?), substr(?, ?, ?), substr(?, 1, instr(?, '/') - 1), substr(?, instr(?, '/') + 1)",
         [value, start, value, start, length, value, value, value, value])


def test_documented_differences(pg):
    """What PostgreSQL gives otherwise, and why the program does not mind."""
    # A day past the month's end: SQLite prints it back as written, PostgreSQL rolls it over (as
    # SQLite itself does once a modifier is applied). Hour 24 is NULL. Times are validated first.
    assert both(pg, "SELECT date('2024-02-30'), date('2024-02-30', '+1 hours'), date('2024-01-01 24:00')") == (
        [("2024-02-30", "2024-03-01", "2024-01-01")], [("2024-03-01", "2024-03-01", None)])
    # Months are added as calendars do, not as SQLite does (normalising Feb 31): no code adds months.
    assert both(pg, "SELECT date('2024-01-31', '+1 month')") == ([("2024-03-02",)], [("2024-02-29",)])
    # json_each / json_extract give every scalar as text (a column has one type): the program
    # unpacks lists of ids (text) with json_each and casts numbers it reads from JSON.
    doc = '[7, 1.5, true, {"b": 1, "a": 2}]'
    assert both(pg, "SELECT key, value FROM json_each(?)", [doc]) == (
        [(0, 7), (1, 1.5), (2, 1), (3, '{"b":1,"a":2}')], [("0", "7"), ("1", "1.5"), ("2", "1"), ("3", '{"a": 2, "b": 1}')])
    assert both(pg, "SELECT json_extract(?, '$[0]')", [doc]) == ([(7,)], [("7",)])
    # SQLite 3.40 matches a path against a key as written: an escaped key ("\\u4e2d", as json.dumps
    # writes 中) is not found by '$.中'. PostgreSQL finds it. The program's paths are ASCII names.
    assert both(pg, "SELECT json_extract(?, '$.中')", [json.dumps({"中": 1})]) == ([(None,)], [("1",)])
    # NULLs sort last ascending on PostgreSQL, first on SQLite: where it shows, the query says
    # NULLS FIRST or NULLS LAST, which both read alike (a default would cost PostgreSQL its indexes).
    order = "SELECT CAST(value AS INTEGER) AS n FROM json_each('[2, null, 1]') ORDER BY n"
    assert both(pg, order) == ([(None,), (1,), (2,)], [(1,), (2,), (None,)])
    same(pg, order + " NULLS FIRST")
    same(pg, order + " DESC NULLS LAST")
    # Dividing by zero is NULL on SQLite and an error on PostgreSQL: the program's SQL divides by
    # constants and by bin widths that are never 0.
    assert LITE.execute("SELECT 1 / 0, 1 % 0").fetchall() == [(None, None)]
    with pytest.raises(sqlite3.OperationalError, match="division by zero"):
        pg.execute("SELECT 1 / ?", [0])
    # PostgreSQL has no NUL in text; no text the program stores has one.
    with pytest.raises(sqlite3.OperationalError):
        pg.execute("SELECT value FROM json_each(?)", [json.dumps(["a\x00b"])])
    # Neither SQLite's typeof() nor total(), nor || between two numbers: none is used.
    for sql in ("SELECT typeof(1)", "SELECT total(1)", "SELECT 1 || 2"):
        with pytest.raises(sqlite3.OperationalError):
            pg.execute(sql)
