"""How fast pgparity reads, compares and reports two 1,000-table schemas, against pg_dump, migra and results.

One throwaway server holds database A (1,000 tables, 10,000 columns, 3,000 indexes, 200 views, 200
functions) and B, the same DDL plus exactly 50 known changes of varied kinds. Each round times
pgparity (connect + inspect of both, compare, render), `pg_dump --schema-only` of both inside the
container (the floor for reading a catalog), and migra and results where they install from PyPI into
throwaway venvs under /tmp. Every tool is scored on which of the 50 differences its output names.
Run it from the repository: `.venv/bin/python bench/verify.py [--repeats N] [--tool-repeats N]`.
"""

from __future__ import annotations

import argparse
import io
import re
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from unittest import mock

from rich.console import Console

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (  # noqa: E402
    PYTHON,
    BenchError,
    Server,
    find_image,
    median,
    print_table,
    progress,
    run,
    seconds,
    server,
    timed,
    verdict,
)

from pgparity.cli import report
from pgparity.database import connect_read_only
from pgparity.schema import verify
from pgparity.schema.diff import Change, compare
from pgparity.schema.introspect import inspect
from pgparity.schema.model import Snapshot
from pgparity.schema.verify import DIFF, Verdict, scoped

DATABASE_A, DATABASE_B = "bench_a", "bench_b"
TABLES, VIEWS, FUNCTIONS = 1000, 200, 200
VIEW_WHERE, CHANGED_VIEW_WHERE = "c5 IS NOT FALSE", "c5 IS TRUE"
FUNCTION_TEST, CHANGED_FUNCTION_TEST = "id > since", "id >= since"
GOAL_FLOOR = 1.5
VENVS = Path("/tmp/pgparity-bench-venvs")

Expected = tuple[str, str, str]  # (kind, object, name) as pgparity's Change names them


# --- the schema pair -------------------------------------------------------------------------


def table_name(number: int) -> str:
    return f"t{number:04d}"


def has_check(number: int) -> bool:
    return number % 5 == 0


def has_unique(number: int) -> bool:
    return number % 8 == 0


def has_foreign_key(number: int) -> bool:
    return number % 10 == 0


def is_referenced(number: int) -> bool:
    return has_foreign_key(number + 1)


def plain(number: int) -> bool:
    """A table without base constraints besides its primary key, that no foreign key points at."""
    return not (has_check(number) or has_unique(number) or is_referenced(number))


def table_ddl(number: int) -> str:
    """Ten columns, three indexes, and the CHECK, UNIQUE or FOREIGN KEY its number calls for."""
    t = table_name(number)
    lines = ["id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY", "c1 text", "c2 varchar", "c3 integer",
             "c4 numeric(12,2) NOT NULL DEFAULT 0", "c5 boolean", "c6 timestamptz NOT NULL DEFAULT now()",
             "c7 varchar(40)", "c8 jsonb", "c9 bigint"]
    lines += [f"CONSTRAINT {t}_c3_check CHECK (c3 >= 0)"] if has_check(number) else []
    lines += [f"CONSTRAINT {t}_c7_key UNIQUE (c7)"] if has_unique(number) else []
    lines += ([f"CONSTRAINT {t}_c9_fkey FOREIGN KEY (c9) REFERENCES {table_name(number - 1)} (id)"]
              if has_foreign_key(number) else [])
    return (f"CREATE TABLE {t} (\n    " + ",\n    ".join(lines) + "\n);\n"
            f"CREATE INDEX {t}_c3_idx ON {t} (c3);\nCREATE INDEX {t}_c7_idx ON {t} (c7);\n"
            f"CREATE INDEX {t}_c9_c1_idx ON {t} (c9, c1);\n")


def view_ddl(number: int, where: str, verb: str = "CREATE") -> str:
    """View `v<number>` over table `t<number>`."""
    return f"{verb} VIEW v{number:04d} AS SELECT id, c1, c2, c3 FROM {table_name(number)} WHERE {where};\n"


def function_ddl(number: int, test: str, verb: str = "CREATE") -> str:
    """Function `f<number>(since bigint)` counting rows of table `t<200 + number>`."""
    return (f"{verb} FUNCTION f{number:04d}(since bigint) RETURNS bigint LANGUAGE plpgsql STABLE AS $$\n"
            f"BEGIN\n    RETURN (SELECT count(*) FROM public.{table_name(VIEWS + number)} WHERE {test});\nEND\n$$;\n")


def base_schema() -> str:
    return "".join([*map(table_ddl, range(1, TABLES + 1)),
                    *(view_ddl(n, VIEW_WHERE) for n in range(1, VIEWS + 1)),
                    *(function_ddl(n, FUNCTION_TEST) for n in range(1, FUNCTIONS + 1))])


@dataclass(frozen=True)
class Drift:
    """One statement applied to B only, and the difference pgparity should report for it."""

    sql: str
    expected: Expected


# (how many, kind, name, SQL, which tables qualify); `{t}` is the table the change is given.
TABLE_CHANGES: tuple[tuple[int, str, str, str, Callable[[int], bool]], ...] = (
    (4, "column", "c2", "ALTER TABLE {t} ALTER COLUMN c2 TYPE varchar(255)", plain),
    (1, "column", "c3", "ALTER TABLE {t} ALTER COLUMN c3 TYPE bigint", plain),
    (3, "column", "c8", "ALTER TABLE {t} DROP COLUMN c8", plain),
    (3, "column", "note", "ALTER TABLE {t} ADD COLUMN note text", plain),
    (3, "column", "c1", "ALTER TABLE {t} ALTER COLUMN c1 SET NOT NULL", plain),
    (1, "column", "c4", "ALTER TABLE {t} ALTER COLUMN c4 DROP NOT NULL", plain),
    (1, "column", "c5", "ALTER TABLE {t} ALTER COLUMN c5 SET DEFAULT false", plain),
    (1, "column", "c4", "ALTER TABLE {t} ALTER COLUMN c4 DROP DEFAULT", plain),
    (1, "column", "c6", "ALTER TABLE {t} ALTER COLUMN c6 SET DEFAULT statement_timestamp()", plain),
    (2, "index", "{t}_c7_idx", "DROP INDEX {t}_c7_idx", plain),
    (2, "index", "{t}_c5_idx", "CREATE INDEX {t}_c5_idx ON {t} (c5)", plain),
    (1, "index", "{t}_c3_idx", "DROP INDEX {t}_c3_idx; CREATE INDEX {t}_c3_idx ON {t} (c3 DESC)", plain),
    (1, "index", "{t}_c3_idx", "DROP INDEX {t}_c3_idx; CREATE INDEX {t}_c3_idx ON {t} USING hash (c3)", plain),
    (1, "index", "{t}_c3_idx", "DROP INDEX {t}_c3_idx; CREATE INDEX {t}_c3_idx ON {t} (c3) WHERE c3 > 0", plain),
    (2, "constraint", "{t}_c3_check", "ALTER TABLE {t} ADD CONSTRAINT {t}_c3_check CHECK (c3 >= 0)", plain),
    (1, "constraint", "{t}_c3_check", "ALTER TABLE {t} DROP CONSTRAINT {t}_c3_check", has_check),
    (1, "constraint", "{t}_c3_check",
     "ALTER TABLE {t} DROP CONSTRAINT {t}_c3_check, ADD CONSTRAINT {t}_c3_check CHECK (c3 > 0)", has_check),
    (2, "constraint", "{t}_c7_key", "ALTER TABLE {t} ADD CONSTRAINT {t}_c7_key UNIQUE (c7)", plain),
    (1, "constraint", "{t}_c7_key", "ALTER TABLE {t} DROP CONSTRAINT {t}_c7_key", has_unique),
    (2, "constraint", "{t}_c9_fkey",
     "ALTER TABLE {t} ADD CONSTRAINT {t}_c9_fkey FOREIGN KEY (c9) REFERENCES t0001 (id)", plain),
    (1, "constraint", "{t}_c9_fkey", "ALTER TABLE {t} DROP CONSTRAINT {t}_c9_fkey", has_foreign_key),
    (2, "table", "", "DROP TABLE {t}", plain),
    (1, "comment", "", "COMMENT ON TABLE {t} IS 'drifted'", plain),
    (1, "comment", "c1", "COMMENT ON COLUMN {t}.c1 IS 'drifted'", plain),
)


def table_changes() -> list[Drift]:
    """TABLE_CHANGES, each on its own table past those views and functions read, so no two meet."""
    candidates = range(VIEWS + FUNCTIONS + 1, TABLES + 1)
    used: set[int] = set()
    changes = []
    for count, kind, name, statement, qualifies in TABLE_CHANGES:
        for _ in range(count):
            number = next(n for n in candidates if n not in used and qualifies(n))
            used.add(number)
            t = table_name(number)
            changes.append(Drift(statement.format(t=t) + ";\n", (kind, f"public.{t}", name.format(t=t))))
    return changes


def function_key(name: str, arguments: str = "since bigint") -> str:
    return f"public.{name}({arguments})"


def code_changes() -> list[Drift]:
    """Views, functions, a new table: the changes no table of the base schema carries."""
    return [
        *(Drift(view_ddl(n, CHANGED_VIEW_WHERE, "CREATE OR REPLACE"), ("view", f"public.v{n:04d}", ""))
          for n in (1, 2, 3)),
        Drift("DROP VIEW v0004;\n", ("view", "public.v0004", "")),
        *(Drift(function_ddl(n, CHANGED_FUNCTION_TEST, "CREATE OR REPLACE"), ("function", function_key(f"f{n:04d}"), ""))
          for n in (1, 2, 3)),
        Drift("ALTER FUNCTION f0004(bigint) VOLATILE;\n", ("function", function_key("f0004"), "")),
        Drift("COMMENT ON FUNCTION f0005(bigint) IS 'drifted';\n", ("comment", function_key("f0005"), "")),
        Drift("CREATE FUNCTION extra_fn() RETURNS integer LANGUAGE sql IMMUTABLE AS 'SELECT 1';\n",
               ("function", function_key("extra_fn", ""), "")),
        Drift("CREATE TABLE extra_table (id bigint PRIMARY KEY, label text);\n", ("table", "public.extra_table", "")),
    ]


def changes() -> list[Drift]:
    """The 50 changes that turn A into B; each names a different object, so each is one difference."""
    found = table_changes() + code_changes()
    expected = {change.expected for change in found}
    if len(found) != 50 or len(expected) != 50:
        raise BenchError(f"the change list holds {len(found)} changes naming {len(expected)} objects, not 50")
    return found


# --- the server ------------------------------------------------------------------------------




def build_pair(target: Server, drift: Sequence[Drift]) -> None:
    """A and B from the same DDL, then the changes applied to B; both vacuumed so autovacuum stays idle."""
    schema = base_schema()
    for database in (DATABASE_A, DATABASE_B):
        progress(f"creating {database}")
        target.psql("postgres", f"CREATE DATABASE {database};")
        target.psql(database, schema, "-1")
    target.psql(DATABASE_B, "".join(change.sql for change in drift), "-1")
    for database in (DATABASE_A, DATABASE_B):
        target.psql(database, "VACUUM ANALYZE;")


# --- what is timed ---------------------------------------------------------------------------


@dataclass
class Samples:
    """Seconds per measure, one value per round."""

    values: dict[str, list[float]] = field(default_factory=dict)

    def add(self, measure: str, value: float) -> None:
        self.values.setdefault(measure, []).append(value)

    def median(self, measure: str) -> float:
        return median(self.values[measure])


def read(url: str) -> Snapshot:
    """As `db.diff` reads a URL endpoint: a read-only session, one inspect."""
    with connect_read_only(url) as conn:
        return inspect(conn)


def render(changes: Sequence[Change]) -> str:
    """The verdict `db.diff` prints, with report's console swapped for one writing to memory."""
    buffer = io.StringIO()
    console = Console(file=buffer, highlight=False, soft_wrap=True, width=report.PIPE_WIDTH)
    with mock.patch.object(report, "out", console):
        report.verdict(Verdict(tuple(scoped(DIFF, verify.rows(changes), ()))))
    return buffer.getvalue()


def pgparity_round(target: Server, samples: Samples) -> tuple[Change, ...]:
    """Inspect A and B, compare B (local) with A (production), render; what compare found."""
    inspect_a, production = timed(lambda: read(target.url(DATABASE_A)))
    inspect_b, local = timed(lambda: read(target.url(DATABASE_B)))
    diff, changes = timed(lambda: compare(local, production))
    rendering, text = timed(lambda: render(changes))
    if not text.strip():
        raise BenchError("report.verdict rendered nothing")
    for measure, value in (("inspect A", inspect_a), ("inspect B", inspect_b), ("compare", diff),
                           ("render", rendering), ("inspect both", inspect_a + inspect_b),
                           ("pgparity", inspect_a + inspect_b + diff + rendering)):
        samples.add(measure, value)
    return changes


def exec_seconds(target: Server, command: str) -> float:
    """Seconds of one `docker exec CONTAINER sh -c COMMAND`."""
    return timed(lambda: target.exec("sh", "-c", command))[0]


def floor_round(target: Server, samples: Samples) -> None:
    """`pg_dump --schema-only` of A and B inside the container, and the cost of a trivial exec."""
    overhead = exec_seconds(target, "true")
    dumps = sum(exec_seconds(target, f"pg_dump -U postgres --schema-only {database} > /dev/null")
                for database in (DATABASE_A, DATABASE_B))
    samples.add("exec overhead", overhead)
    samples.add("pg_dump raw", dumps)
    samples.add("pg_dump net", dumps - 2 * overhead)


def startup_round(samples: Samples) -> None:
    """What a `db.diff` command pays before its work, left out of pgparity's total: Python start and imports."""
    samples.add("start", timed(lambda: run([str(PYTHON), "-c", "import pgparity.tasks"]))[0])


# --- migra and results -----------------------------------------------------------------------


@dataclass(frozen=True)
class Tool:
    """A schema diff tool from PyPI, in its own venv under /tmp, run through its CLI as `... A B`."""

    name: str
    requirements: tuple[str, ...]
    command: tuple[str, ...]  # the venv's executable, then the arguments before the two URLs


TOOLS = (
    # migra's last release needs SQLAlchemy 1.x and psycopg2; these versions were checked to work together.
    Tool("migra", ("migra==3.0.1663481299", "schemainspect==3.1.1663587362", "sqlbag==0.1.1617247075",
                   "SQLAlchemy==1.4.54", "psycopg2-binary==2.9.13"), ("migra", "--unsafe")),
    Tool("results", ("results==2.0.1789346060",), ("results", "dbdiff")),
)
PRINTED_A_MIGRATION = {0, 2}  # both exit 2 when they print SQL, 0 when the schemas match


@dataclass
class Outcome:
    """One tool's seconds per run and its last output, or why it could not run."""

    tool: Tool
    seconds: list[float] = field(default_factory=list)
    output: str = ""
    problem: str | None = None


def install(tool: Tool) -> Path:
    """The bin directory of the tool's venv, created and filled once and kept between runs."""
    venv = VENVS / tool.name
    marker = venv / "pgparity-bench-requirements.txt"
    wanted = "\n".join(tool.requirements)
    if not (marker.is_file() and marker.read_text(encoding="utf-8") == wanted):
        progress(f"installing {tool.name} into {venv}")
        run([sys.executable, "-m", "venv", "--clear", str(venv)])
        run([str(venv / "bin" / "pip"), "install", "-q", "--disable-pip-version-check", *tool.requirements])
        marker.write_text(wanted, encoding="utf-8")
    return venv / "bin"


def prepare(tool: Tool, runs: int) -> tuple[Outcome, Path | None]:
    """An empty outcome and the tool's bin directory, or an outcome saying why it will not be measured."""
    if runs < 1:
        return Outcome(tool, problem="not run (--tool-repeats 0)"), None
    try:
        return Outcome(tool), install(tool)
    except BenchError as error:
        return Outcome(tool, problem=f"does not install: {error}"), None


def tool_run(outcome: Outcome, bin_dir: Path, target: Server) -> None:
    """One timed run of the tool from A to B; a failure is recorded in the outcome, not raised."""
    tool = outcome.tool
    argv = [str(bin_dir / tool.command[0]), *tool.command[1:], target.url(DATABASE_A), target.url(DATABASE_B)]
    elapsed, result = timed(lambda: subprocess.run(argv, capture_output=True, text=True))
    if result.returncode not in PRINTED_A_MIGRATION:
        outcome.problem = f"exited {result.returncode}: {result.stderr.strip()[-300:]}"
        return
    outcome.seconds.append(elapsed)
    outcome.output = result.stdout


# --- which of the 50 each tool names ---------------------------------------------------------


def reported_by_pgparity(changes: Sequence[Change]) -> set[Expected]:
    return {(c.kind, c.object, c.name) for c in changes}


def statements(sql: str) -> list[str]:
    """SQL unquoted, lowercased and cut at each `;` ending a line (a function's head stays whole)."""
    return [part for part in re.split(r";\s*\n", sql.replace('"', "").lower()) if part.strip()]


def mentions(statement: str, identifier: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(identifier)}(?!\w)", statement) is not None


def named_in_sql(parts: Sequence[str], expected: Expected) -> bool:
    """Some statement names the object (a function without its arguments) and the name; an index may
    also be named on its own, schema-qualified, as `DROP INDEX` does."""
    kind, obj, name = expected
    relation = obj.split("(", 1)[0]
    spellings = [(relation, name) if name else (relation,)]
    if kind == "index":
        spellings.append((f"{relation.split('.', 1)[0]}.{name}",))
    return any(all(mentions(part, word) for word in words) for part in parts for words in spellings)


def found_in_sql(sql: str, expected: Sequence[Expected]) -> set[Expected]:
    parts = statements(sql)
    return {item for item in expected if named_in_sql(parts, item)}


# --- the table -------------------------------------------------------------------------------


def label(item: Expected) -> str:
    kind, obj, name = item
    return f"({kind}, {obj}, {name or '-'})"


def found_cell(found: set[Expected], expected: Sequence[Expected]) -> str:
    count = len(found & set(expected))
    return verdict(f"found {count}/{len(expected)}", count == len(expected))


def ratio(value: float, base: float) -> str:
    return f"{value / base:.2f}×"


def tool_row(outcome: Outcome, pgparity: float, expected: Sequence[Expected]) -> list[str]:
    """A tool's median and ratio to pgparity, or why it has none."""
    command = " ".join((*outcome.tool.command, "A", "B"))
    if outcome.problem is not None:
        return [command, "not measured (below)", "-", "-", "pgparity faster"]
    took = median(outcome.seconds)
    found = found_in_sql(outcome.output, expected)
    return [f"{command} ({len(outcome.seconds)} runs)", seconds(took),
            verdict(ratio(took, pgparity), took > pgparity), found_cell(found, expected), "pgparity faster"]


def rows(samples: Samples, pgparity_found: set[Expected], outcomes: Sequence[Outcome],
         expected: Sequence[Expected]) -> list[list[str]]:
    total, net, raw = samples.median("pgparity"), samples.median("pg_dump net"), samples.median("pg_dump raw")
    startup = samples.median("start")

    def timing(title: str, measure: str) -> list[str]:
        return [title, seconds(samples.median(measure)), ratio(samples.median(measure), total), "", ""]

    return [
        timing("pgparity: connect + inspect A", "inspect A"),
        timing("pgparity: connect + inspect B", "inspect B"),
        timing("pgparity: compare", "compare"),
        timing("pgparity: render (report.verdict)", "render"),
        [*timing("pgparity: total", "pgparity")[:3], found_cell(pgparity_found, expected), ""],
        timing("pgparity: Python start + imports (not in total)", "start"),
        timing("docker exec CONTAINER sh -c true", "exec overhead"),
        timing("pg_dump --schema-only A + B, raw", "pg_dump raw"),
        timing("pg_dump --schema-only A + B, net", "pg_dump net"),
        *(tool_row(outcome, total, expected) for outcome in outcomes),
        ["pgparity total / pg_dump net", verdict(ratio(total, net), total / net <= GOAL_FLOOR), "", "",
         f"≤ {GOAL_FLOOR}×"],
        ["pgparity total / pg_dump raw", ratio(total, raw), "", "", ""],
        ["pgparity inspect A + B / pg_dump net", ratio(samples.median("inspect both"), net), "", "", ""],
        ["(pgparity total + start) / pg_dump net", ratio(total + startup, net), "", "", ""],
        *([f"{outcome.tool.name} / (pgparity total + start)", ratio(median(outcome.seconds), total + startup),
           "", "", ""] for outcome in outcomes if outcome.problem is None),
    ]


def print_misses(title: str, missed: Sequence[Expected]) -> None:
    """`title` and the differences it lists, one per line; `none` when there are none."""
    print(f"{title}: {len(missed) or 'none'}")
    for item in missed:
        print(f"    {label(item)}")


def print_findings(pgparity_found: set[Expected], outcomes: Sequence[Outcome], expected: Sequence[Expected]) -> None:
    """Which of the 50 each tool missed, and what pgparity reported beyond them."""
    print_misses("pgparity missed", [item for item in expected if item not in pgparity_found])
    print_misses("pgparity reported beyond the 50", sorted(pgparity_found - set(expected)))
    for outcome in outcomes:
        if outcome.problem is None:
            found = found_in_sql(outcome.output, expected)
            print_misses(f"{outcome.tool.name} missed", [item for item in expected if item not in found])
        else:
            print(f"{outcome.tool.name}: not measured, {outcome.problem}")


def report_all(samples: Samples, repeats: int, pgparity_found: set[Expected], outcomes: Sequence[Outcome],
               expected: Sequence[Expected]) -> None:
    print_table(
        f"pgparity vs pg_dump, migra and results: A and B, {TABLES:,} tables each, 50 differences "
        f"(medians of {repeats} rounds)",
        ["measure", "median", "vs pgparity", "found", "goal"],
        rows(samples, pgparity_found, outcomes, expected),
        ["pgparity: in this process, each database through connect_read_only + inspect as `db.diff` reads a URL, "
         "then compare(B, A) and report.verdict rendered to memory; total = both inspects + compare + render.",
         "pg_dump: `docker exec CONTAINER sh -c 'pg_dump -U postgres --schema-only DB > /dev/null'` for A and B "
         "(Unix socket inside the container); net = raw - 2 × the same round's trivial exec.",
         "migra / results: their CLI, a new Python process per run, from A to B over TCP, in venvs under "
         f"{VENVS}; a difference is found when one SQL statement names its object and name.",
         "Python start + imports: `python -c 'import pgparity.tasks'`, what the `db.diff` command adds to the total; "
         "migra's and results' seconds include their own.",
         "vs pgparity: the row's seconds / pgparity's total; goal rows: ✓ met, ✗ MISSED.",
         "Every round runs pgparity, then pg_dump, then each tool (first --tool-repeats rounds); one warm-up round "
         "of pgparity and pg_dump after building A and B is not counted."],
    )
    print_findings(pgparity_found, outcomes, expected)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7, help="rounds of pgparity and pg_dump (median reported)")
    parser.add_argument("--tool-repeats", type=int, default=3, help="runs of migra and of results")
    args = parser.parse_args()
    if args.repeats < 1 or args.tool_repeats < 0:
        parser.error("--repeats must be at least 1 and --tool-repeats at least 0")
    drift = changes()
    expected = [change.expected for change in drift]
    prepared = [prepare(tool, args.tool_repeats) for tool in TOOLS]
    samples = Samples()
    with server(find_image()) as target:
        build_pair(target, drift)
        progress("warm-up round (not counted)")
        pgparity_round(target, Samples())
        floor_round(target, Samples())
        for number in range(1, args.repeats + 1):
            progress(f"round {number}/{args.repeats}")
            differences = pgparity_round(target, samples)
            floor_round(target, samples)
            startup_round(samples)
            for outcome, bin_dir in prepared:
                if bin_dir is not None and outcome.problem is None and number <= args.tool_repeats:
                    tool_run(outcome, bin_dir, target)
    report_all(samples, args.repeats, reported_by_pgparity(differences), [outcome for outcome, _ in prepared],
               expected)


if __name__ == "__main__":
    main()
