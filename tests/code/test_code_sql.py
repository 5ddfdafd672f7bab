"""`sql` against the real sandbox (sqlite3 -safe)."""

from __future__ import annotations

import pytest
from code_support import executed, fenced, score

from rewardgym.protocol import Status
from rewardgym.sdk import InvalidTask
from rewardgym_code.sql import SqlEnv, canonical, compare_rows, parse_rows

ENV = SqlEnv()
DATABASE = (
    "CREATE TABLE pets(id INTEGER PRIMARY KEY, name TEXT, kind TEXT, weight REAL, owner TEXT);\n"
    "INSERT INTO pets VALUES (1, 'Rex', 'dog', 30.5, 'ann'), (2, 'Tom', 'cat', 4, 'bob'),\n"
    "  (3, 'Kit', 'cat', 3.25, NULL), (4, 'Odd|name', 'bird', 0.1, 'multi\nline');"
)
CATS = {"database": DATABASE, "expected_rows": [["Kit"], ["Tom"]]}


def sql(query: str) -> str:
    return fenced("sql", query)


@pytest.mark.parametrize(("task", "query", "reward", "verdict"), [
    (CATS, "SELECT name FROM pets WHERE kind = 'cat';", 1.0, "AC"),
    (CATS, "SELECT name FROM pets WHERE kind = 'cat' ORDER BY name DESC", 1.0, "AC"),  # multiset
    ({**CATS, "ordered": True}, "SELECT name FROM pets WHERE kind = 'cat' ORDER BY name", 1.0, "AC"),
    ({**CATS, "ordered": True}, "SELECT name FROM pets WHERE kind = 'cat' ORDER BY name DESC", 0.0, "WA"),
    (CATS, "SELECT name FROM pets", 0.0, "WA"),
    (CATS, "SELECT name, kind FROM pets WHERE kind = 'cat'", 0.0, "WA"),  # column count
    (CATS, "SELECT nme FROM pets", 0.0, "RE"),  # a SQL error
    (CATS, "SELECT name FROM pets WHERE kind = 'cat' UNION ALL SELECT name FROM pets WHERE kind = 'cat'", 0.0, "WA"),
    (CATS, "SELECT 'Kit'; SELECT 'Tom';", 1.0, "AC"),  # result sets are concatenated
    (CATS, ".mode list\nSELECT name FROM pets WHERE kind = 'cat';", 0.0, "WA"),  # not JSON rows any more
    ({"database": DATABASE, "expected_rows": [["Odd|name", "multi\nline"]]},
     "SELECT name, owner FROM pets WHERE kind = 'bird'", 1.0, "AC"),
    ({"database": DATABASE, "expected_rows": [[None], [34.5], [4], [0.1]]},
     "SELECT SUM(weight) FROM pets GROUP BY owner", 0.0, "WA"),
    ({"database": DATABASE, "expected_rows": [[4.0, 37.85, None, True]]},
     "SELECT COUNT(*), SUM(weight), MAX(NULL), 1 FROM pets", 1.0, "AC"),  # 4 == 4.0, true == 1, float rounding
    ({"database": DATABASE, "expected_rows": [[3.3333333333]]}, "SELECT 10.0 / 3", 1.0, "AC"),
    ({"database": DATABASE, "expected_rows": [["4"]]}, "SELECT COUNT(*) FROM pets", 0.0, "WA"),  # text != number
    ({"database": DATABASE, "expected_rows": []}, "SELECT * FROM pets WHERE 0", 1.0, "AC"),
])
def test_verdicts(task, query, reward, verdict):
    result = score(ENV, task, sql(query))
    assert (result.reward, result.status, result.details["verdict"]) == (reward, Status.OK, verdict), result.details


def test_reference_query_gives_the_expected_rows():
    task = {"database": DATABASE, "reference_query": "SELECT kind, COUNT(*) FROM pets GROUP BY kind ORDER BY 2 DESC, 1",
            "ordered": True}
    assert score(ENV, task, sql("SELECT kind, COUNT(id) AS n FROM pets GROUP BY kind ORDER BY n DESC, kind")).reward == 1.0
    wrong = score(ENV, task, sql("SELECT kind, COUNT(id) AS n FROM pets GROUP BY kind ORDER BY kind"))
    assert wrong.reward == 0.0 and wrong.details["first_failure"]["message"].startswith("row 1: expected ['cat', 2]")


def test_a_timeout_and_an_error_show_in_details():
    loop = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT COUNT(*) FROM c;"
    result = score(ENV, {**CATS, "time_limit_s": 0.5}, sql(loop))
    assert (result.reward, result.details["verdict"]) == (0.0, "TLE")
    error = score(ENV, CATS, sql("SELEC name FROM pets"))
    assert "syntax error" in error.details["first_failure"]["stderr"]
    assert error.details["first_failure"]["expected"] == '[["Kit"], ["Tom"]]'


def test_no_query_is_no_answer():
    assert score(ENV, CATS, "```sql\n```").status == Status.NO_ANSWER


@pytest.mark.parametrize(("task", "message"), [
    ({"database": DATABASE}, "Expected exactly one of expected_rows and reference_query"),
    ({**CATS, "reference_query": "SELECT 1"}, "Expected exactly one of expected_rows and reference_query"),
    ({"database": DATABASE, "reference_query": "SELECT nope FROM pets"}, "Expected the reference query to run"),
    ({"database": "CREATE TABLE broken(", "expected_rows": []}, "Expected the task's database statements to run"),
])
def test_unusable_tasks_are_invalid(task, message):
    with pytest.raises(InvalidTask, match=message):
        score(ENV, task, sql("SELECT 1"))
    status, _ = executed(ENV, task, sql("SELECT 1"))
    assert status == Status.INVALID_TASK


def test_database_output_before_the_marker_is_ignored():
    task = {"database": DATABASE + "\nSELECT 'noise';", "expected_rows": [["Kit"], ["Tom"]]}
    assert score(ENV, task, sql("SELECT name FROM pets WHERE kind = 'cat'")).reward == 1.0


def test_row_helpers():
    assert [canonical(v) for v in (True, 2.0, 2.5, 1 / 3, None, "x")] == [1, 2, 2.5, 0.3333333333, None, "x"]
    assert parse_rows('rewardgym-query-output-follows\n[{"a":1,"a":2}]\n[{"b":null}]\n') == [(1, 2), (None,)]
    assert compare_rows([(1,), (2,)], [(2,), (1,)], ordered=False) is None
    assert compare_rows([(1,), (2,)], [(2,), (1,)], ordered=True) == "row 1: expected [1], got [2]"
