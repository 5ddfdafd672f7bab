"""`sql`: a SQLite query judged by the rows it returns.

Both the model's query and a task's reference query run in the sandbox (language `sqlite`: stdin = the task's
database statements, then the query), each as its own job. Between the two, this module inserts
`.print <marker>` and `.mode json`, so rows come back typed and unambiguous (text may hold `|` or newlines) and
anything printed before the query is ignored.
"""

from __future__ import annotations

import functools
import json
import math
from collections import Counter
from typing import Any

from pydantic import Field

from rewardgym.sdk import Environment, Example, InvalidTask, Score

from rewardgym_code.extract import extract_program
from rewardgym_code.judge import TestVerdict, head, verdicts_score
from rewardgym_code.limits import LimitedTask, Limits
from rewardgym_code.sandbox import RunOutput, run_in_sandbox

LANGUAGE = "sqlite"
SQL_TAGS = frozenset({"sql", "sqlite", "sqlite3"})
OUTPUT_MARKER = "rewardgym-query-output-follows"
SIGNIFICANT_DIGITS = 10
"""Non-integral numbers are compared after rounding to this many significant digits (sqlite3 prints 17)."""
REFERENCE_CACHE_SIZE = 32
SHOWN_ROWS = 5

Cell = str | int | float | bool | None
Row = tuple[Any, ...]


class SqlTask(LimitedTask):
    database: str = Field(min_length=1, description="SQLite statements that create and fill the tables; they "
                                                    "must print nothing.")
    expected_rows: list[list[Cell]] | None = Field(None, description="The rows the query must return.")
    reference_query: str | None = Field(None, description="Or: a query whose rows (run in the sandbox) are expected.")
    ordered: bool = Field(False, description="Compare rows in order; by default as multisets.")


class RowsUnreadable(ValueError):
    """sqlite3's output is not the JSON rows asked for (e.g. the query switched `.mode`)."""


def canonical(value: Any) -> Any:
    """A cell as compared: booleans as 0/1, integral floats as ints, others rounded to SIGNIFICANT_DIGITS."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, float) and math.isfinite(value):
        if value.is_integer() and abs(value) < 2**53:
            return int(value)
        return float(f"{value:.{SIGNIFICANT_DIGITS}g}")
    return value


def canonical_rows(rows: list[list[Any]]) -> list[Row]:
    return [tuple(canonical(cell) for cell in row) for row in rows]


def parse_rows(stdout: str) -> list[Row]:
    """The rows printed after the marker: sqlite3's JSON mode prints one array of objects per result set;
    several result sets are concatenated. Column names are dropped (duplicates are kept, in order)."""
    before, found, after = stdout.partition(OUTPUT_MARKER + "\n")
    if not found:
        raise RowsUnreadable("the output marker is missing")
    decoder = json.JSONDecoder(object_pairs_hook=lambda pairs: [value for _, value in pairs])
    rows: list[list[Any]] = []
    position = 0
    while (position := _skip_space(after, position)) < len(after):
        try:
            result_set, position = decoder.raw_decode(after, position)
        except json.JSONDecodeError as exc:
            raise RowsUnreadable(f"Expected sqlite3 JSON rows, got {after[position:position + 60]!r}") from exc
        if not isinstance(result_set, list) or not all(isinstance(row, list) for row in result_set):
            raise RowsUnreadable(f"Expected a JSON array of rows, got {type(result_set).__name__}")
        rows.extend(result_set)
    return canonical_rows(rows)


def _skip_space(text: str, position: int) -> int:
    while position < len(text) and text[position].isspace():
        position += 1
    return position


def compare_rows(expected: list[Row], got: list[Row], ordered: bool) -> str | None:
    """None when equal, else why not."""
    if ordered:
        for index, (want, have) in enumerate(zip(expected, got), start=1):
            if want != have:
                return f"row {index}: expected {list(want)}, got {list(have)}"
        return None if len(expected) == len(got) else f"expected {len(expected)} rows, got {len(got)}"
    want, have = Counter(expected), Counter(got)
    if want == have:
        return None
    missing, extra = list((want - have).elements()), list((have - want).elements())
    return (f"expected {len(expected)} rows, got {len(got)} (compared as a multiset); missing "
            f"{[list(r) for r in missing[:SHOWN_ROWS]]}, unexpected {[list(r) for r in extra[:SHOWN_ROWS]]}")


def query_input(database: str) -> str:
    """The test's stdin: the database, then the marker and the output mode; the sandbox appends the query."""
    return f"{database}\n.print {OUTPUT_MARKER}\n.mode json\n"


@functools.lru_cache(maxsize=REFERENCE_CACHE_SIZE)
def reference_rows(database: str, reference_query: str, limits: Limits) -> tuple[Row, ...]:
    """The reference query's rows, from its own sandbox job (cached per process; failures are not cached)."""
    result = run_in_sandbox(LANGUAGE, reference_query, [limits.test(query_input(database))],
                            stop_on_first_failure=True)
    run = result.runs[0]
    if run.verdict != "OK":
        raise InvalidTask(f"Expected the reference query to run, got {run.verdict} ({run.reason}): "
                          f"{head(run.stderr)}")
    try:
        return tuple(parse_rows(run.stdout))
    except RowsUnreadable as exc:
        raise InvalidTask(f"Expected the reference query to print rows: {exc}") from exc


def judge_run(run: RunOutput, expected: list[Row], ordered: bool) -> TestVerdict:
    shown = json.dumps([list(row) for row in expected[:SHOWN_ROWS]]) + (" ..." if len(expected) > SHOWN_ROWS else "")
    if run.verdict != "OK":
        if run.verdict == "RE" and OUTPUT_MARKER not in run.stdout:
            raise InvalidTask(f"Expected the task's database statements to run, got: {head(run.stderr)}")
        return TestVerdict(run.verdict, run, shown, run.reason)
    try:
        got = parse_rows(run.stdout)
    except RowsUnreadable as exc:
        return TestVerdict("WA", run, shown, str(exc))
    mismatch = compare_rows(expected, got, ordered)
    return TestVerdict("WA" if mismatch else "AC", run, shown, mismatch)


class SqlEnv(Environment[SqlTask]):
    name = "sql"
    version = "1.0.0"
    description = (
        "SQL queries (SQLite 3, sqlite3 -safe) judged by their rows. Task: database (statements creating and "
        "filling the tables), and either expected_rows or reference_query (run in the sandbox as its own job); "
        "ordered=true compares rows in order, else as multisets. Extraction: the last ```sql block, else the "
        "last fenced block, else the whole text; nothing to run -> no_answer. Cells compare by value: 1 == 1.0, "
        f"true == 1, non-integral numbers to {SIGNIFICANT_DIGITS} significant digits, text exactly; column "
        "names are ignored, column counts must match; several result sets are concatenated. Reward: 1.0 if the "
        "rows match, else 0.0 (WA, RE for a SQL error, TLE, MLE, OLE). A failing reference query or database is "
        "invalid_task; a sandbox failure is status error (reward null)."
    )
    Task = SqlTask
    timeout_s = 60.0
    max_timeout_s = 300.0

    def score(self, task: SqlTask, completion: str) -> Score:
        limits = Limits.of(task)
        if (task.expected_rows is None) == (task.reference_query is None):
            raise InvalidTask("Expected exactly one of expected_rows and reference_query")
        program = extract_program(completion, SQL_TAGS)
        if program is None:
            return Score.no_answer("Expected a SQL query in the completion, found none")
        if task.reference_query is not None:
            expected = list(reference_rows(task.database, task.reference_query, limits))
        else:
            expected = canonical_rows(task.expected_rows or [])
        result = run_in_sandbox(LANGUAGE, program.source, [limits.test(query_input(task.database))],
                                stop_on_first_failure=True)
        verdicts = [judge_run(run, expected, task.ordered) for run in result.runs]
        return verdicts_score(program, LANGUAGE, verdicts, 1, partial=False, ordered=task.ordered)

    def examples(self) -> list[Example[SqlTask]]:
        database = ("CREATE TABLE employees(id INTEGER PRIMARY KEY, name TEXT, dept TEXT, salary REAL);\n"
                    "INSERT INTO employees VALUES (1, 'Ada', 'eng', 120.5), (2, 'Bob', 'eng', 99), "
                    "(3, 'Cy', 'ops', 80);")
        per_dept = SqlTask(database=database, expected_rows=[["ops", 80], ["eng", 219.5]])
        ranking = SqlTask(database=database, reference_query="SELECT name FROM employees ORDER BY salary DESC;",
                          ordered=True)
        return [
            Example(per_dept, "```sql\nSELECT dept, SUM(salary) FROM employees GROUP BY dept;\n```", 1.0),
            Example(per_dept, "```sql\nSELECT dept, MAX(salary) FROM employees GROUP BY dept;\n```", 0.0),
            Example(ranking, "```sql\nSELECT name FROM employees ORDER BY salary DESC\n```", 1.0),
            Example(ranking, "```sql\nSELECT name FROM employees ORDER BY salary\n```", 0.0),
        ]
