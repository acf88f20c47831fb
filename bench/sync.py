"""How fast `pgparity db.sync` replays generated migration trees, against psql doing the same work.

For each tree size, in one dev container: a cold sync (`--no-cache`), the floor (every file in one
`psql -1` run inside the container), a per-file `psql` loop as hand-written scripts do it, and warm
syncs (cache hit): right after the cold one, back to back after that, and once the background work
has finished. Run it from the repository: `.venv/bin/python bench/sync.py [--sizes 300 3000]`.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (  # noqa: E402
    BenchError,
    Environment,
    environment,
    median,
    print_table,
    progress,
    run,
    seconds,
    timed,
    verdict,
)

GOAL_FLOOR = 1.3
GOAL_LOOP = 5.0
GOAL_WARM = 0.5
SEED = 20240131

LITERALS: dict[str, Callable[[random.Random], str]] = {
    "text": lambda rng: f"'item {rng.randint(1, 9999)}'",
    "integer": lambda rng: str(rng.randint(0, 100_000)),
    "numeric(12,2)": lambda rng: f"{rng.randint(0, 99_999)}.{rng.randint(0, 99):02d}",
    "boolean": lambda rng: rng.choice(("true", "false")),
    "timestamptz": lambda rng: f"'2024-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d} 12:00:00+00'",
    "varchar(40)": lambda rng: f"'code-{rng.randint(1, 999)}'",
    "jsonb": lambda rng: f"'{{\"n\": {rng.randint(1, 99)}}}'",
}
KINDS = {"table": 30, "column": 25, "index": 20, "insert": 15, "function": 5, "view": 5}


# --- the migration tree ----------------------------------------------------------------------


@dataclass
class TreeWriter:
    """Writes migrations that build on each other: tables first, then columns, indexes, rows, code."""

    rng: random.Random
    tables: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # table -> its NOT NULL columns

    def migration(self, number: int) -> tuple[str, str]:
        """The description and SQL of migration `number`."""
        kind = "table" if not self.tables else self.rng.choices(list(KINDS), list(KINDS.values()))[0]
        makers = {"table": self.table, "column": self.column, "index": self.index, "insert": self.insert,
                  "function": self.function, "view": self.view}
        return makers[kind](number)

    def pick(self) -> str:
        """A table created earlier."""
        return self.rng.choice(list(self.tables))

    def table(self, number: int) -> tuple[str, str]:
        """A table with an identity key, three to seven NOT NULL columns, and sometimes a foreign key."""
        name = f"t{number:04d}"
        columns = [(f"c{index}", self.rng.choice(list(LITERALS))) for index in range(self.rng.randint(3, 7))]
        lines = ["id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY",
                 *(f"{column} {kind} NOT NULL" for column, kind in columns),
                 "created_at timestamptz NOT NULL DEFAULT now()"]
        if self.tables and self.rng.random() < 0.3:
            parent = self.pick()
            lines.append(f"{parent}_id bigint REFERENCES {parent} (id)")
        self.tables[name] = columns
        return f"create_{name}", f"CREATE TABLE {name} (\n    " + ",\n    ".join(lines) + "\n);\n"

    def column(self, number: int) -> tuple[str, str]:
        """One or two nullable columns added to an existing table."""
        table = self.pick()
        added = [f"ADD COLUMN n{number}_{index} {self.rng.choice(list(LITERALS))}"
                 for index in range(self.rng.randint(1, 2))]
        return f"add_columns_to_{table}", f"ALTER TABLE {table}\n    " + ",\n    ".join(added) + ";\n"

    def index(self, number: int) -> tuple[str, str]:
        """An index on one of a table's columns."""
        table = self.pick()
        column = self.rng.choice(self.tables[table])[0]
        return (f"index_{table}_{column}",
                f"CREATE INDEX {table}_{column}_{number}_idx ON {table} ({column});\n")

    def insert(self, number: int) -> tuple[str, str]:
        """Two to five rows for a table."""
        table = self.pick()
        columns = self.tables[table]
        rows = [f"({', '.join(LITERALS[kind](self.rng) for _, kind in columns)})"
                for _ in range(self.rng.randint(2, 5))]
        names = ", ".join(column for column, _ in columns)
        return f"seed_{table}", f"INSERT INTO {table} ({names}) VALUES\n    " + ",\n    ".join(rows) + ";\n"

    def function(self, number: int) -> tuple[str, str]:
        """A plpgsql function whose dollar-quoted body holds semicolons, in code and in a string."""
        table = self.pick()
        body = (f"CREATE OR REPLACE FUNCTION f{number:04d}(since bigint) RETURNS bigint\n"
                "LANGUAGE plpgsql STABLE AS $body$\nDECLARE\n    total bigint := 0;\nBEGIN\n"
                f"    SELECT count(*) INTO total FROM {table} WHERE id > since;\n"
                "    IF total < 0 THEN\n        RAISE EXCEPTION 'impossible count %; since %', total, since;\n"
                "    END IF;\n    RETURN total;\nEND;\n$body$;\n")
        return f"function_count_{table}", body

    def view(self, number: int) -> tuple[str, str]:
        """A view over some of a table's columns."""
        table = self.pick()
        columns = ", ".join(column for column, _ in self.tables[table][:3])
        return (f"view_of_{table}",
                f"CREATE VIEW v{number:04d} AS\n    SELECT id, {columns}, created_at FROM {table} WHERE id > 0;\n")


def write_tree(directory: Path, count: int) -> list[Path]:
    """`count` numbered migrations in `directory`, the same for the same count; their paths in order."""
    directory.mkdir(parents=True)
    writer = TreeWriter(random.Random(SEED))
    paths = []
    for number in range(1, count + 1):
        description, sql = writer.migration(number)
        path = directory / f"{number:04d}_{description}.sql"
        path.write_text(f"-- {number}: {description.replace('_', ' ')}\n{sql}", encoding="utf-8")
        paths.append(path)
    return paths


# --- what is timed ---------------------------------------------------------------------------


def pgparity_sync(env: Environment, root: Path, expect_cache: str, *flags: str) -> tuple[float, float]:
    """Time `db.sync --json`; check which way it went; the command's seconds and its `seconds` field."""
    elapsed, result = timed(lambda: env.pgparity("db.sync", "--json", *flags, cwd=root))
    summary = json.loads(result.stdout)
    if summary["cache"] != expect_cache:
        raise BenchError(f"db.sync reported cache {summary['cache']!r}, expected {expect_cache!r}")
    return elapsed, summary["seconds"]


def psql(env: Environment, database: str, sql: str, *flags: str) -> None:
    """psql inside the dev container with `sql` on stdin, stopping at the first error."""
    run(["docker", "exec", "-i", env.container, "psql", "-X", "-U", "postgres", "-d", database,
         "-v", "ON_ERROR_STOP=1", "-q", *flags, "-f", "-"], stdin=sql)


def into_fresh_database(env: Environment, work: Callable[[str], None]) -> float:
    """Seconds `work` takes on a newly created empty database (created and dropped outside the timing)."""
    database = f"bench_{uuid.uuid4().hex[:8]}"
    psql(env, "postgres", f"CREATE DATABASE {database};")
    try:
        return timed(lambda: work(database))[0]
    finally:
        psql(env, "postgres", f"DROP DATABASE {database} WITH (FORCE);")


def settle(env: Environment) -> None:
    """Wait until no pgparity session is left on the server: the detached process that prepares the next
    spare and empty databases and drops the replaced ones has finished."""
    count = ["docker", "exec", env.container, "psql", "-X", "-At", "-U", "postgres", "-c",
             "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pgparity'"]
    while run(count).stdout.strip() != "0":
        time.sleep(0.05)


def floor(env: Environment, script: str) -> float:
    """Every migration concatenated and run once, in one transaction: `psql -1 -q -f -`."""
    return into_fresh_database(env, lambda database: psql(env, database, script, "-1"))


def per_file_loop(env: Environment, paths: list[Path]) -> float:
    """One `docker exec ... psql -q -f -` per file, as hand-written scripts do it."""
    def loop(database: str) -> None:
        for path in paths:
            psql(env, database, path.read_text(encoding="utf-8"))
    return into_fresh_database(env, loop)


# --- one tree size ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Round:
    """One round's seconds, in the order they run: cold sync, three warm syncs, floor."""

    cold_command: float
    cold_work: float
    first_warm_command: float
    first_warm_work: float
    back_to_back_command: float
    back_to_back_work: float
    warm_command: float
    warm_work: float
    floor: float


@dataclass(frozen=True)
class SizeResult:
    """Every round for one tree size, and the per-file loop scaled to the whole tree."""

    files: int
    rounds: list[Round]
    loops: list[float]
    loop_measured: int

    def median(self, measure: Callable[[Round], float]) -> float:
        """Median over rounds; a ratio of two figures of one round cancels the load of that moment."""
        return median([measure(one) for one in self.rounds])


def one_round(env: Environment, root: Path, script: str) -> Round:
    """A cold sync; a warm sync right after it, which inherits the cold one's unwritten pages and
    background work; a second one back to back, while the background still clones the next spare (the
    sync takes one of the two made before and waits for nothing); a third once that work has finished;
    then the floor, also on a settled server. The floor's database is dropped before the next cold sync."""
    cold = pgparity_sync(env, root, "off", "--no-cache")
    first_warm = pgparity_sync(env, root, "hit")
    back_to_back = pgparity_sync(env, root, "hit")
    settle(env)
    warm = pgparity_sync(env, root, "hit")
    settle(env)
    return Round(*cold, *first_warm, *back_to_back, *warm, floor(env, script))


def measure(env: Environment, root: Path, count: int, repeats: int, loop_cap: int, loop_repeats: int) -> SizeResult:
    """Rounds of cold sync, warm syncs and floor, then the per-file loop over the first `loop_cap` files."""
    paths = write_tree(root / "migrations", count)
    script = "\n".join(path.read_text(encoding="utf-8") for path in paths)
    rounds = []
    for number in range(1, repeats + 1):
        progress(f"{count} files: cold sync, warm syncs, floor: round {number}/{repeats}")
        rounds.append(one_round(env, root, script))
    measured = paths[:loop_cap]
    loops = []
    for number in range(1, loop_repeats + 1):
        progress(f"{count} files: per-file psql loop over {len(measured)} files, run {number}/{loop_repeats}")
        loops.append(per_file_loop(env, measured) * count / len(measured))
    return SizeResult(count, rounds, loops, len(measured))


# --- the table -------------------------------------------------------------------------------


def rows(results: list[SizeResult]) -> list[list[str]]:
    """The table's rows: one column per tree size, then the goal."""
    def row(label: str, cell: Callable[[SizeResult], str], goal: str = "") -> list[str]:
        return [label, *(cell(result) for result in results), goal]

    def loop_cell(r: SizeResult) -> str:
        scaled = "" if r.loop_measured == r.files else f" (first {r.loop_measured} ×{r.files / r.loop_measured:g})"
        return seconds(median(r.loops)) + scaled

    def floor_ratio(r: SizeResult) -> str:
        ratio = r.median(lambda one: one.cold_command / one.floor)
        return verdict(f"{ratio:.2f}×", ratio <= GOAL_FLOOR)

    def loop_ratio(r: SizeResult) -> str:
        ratio = median(r.loops) / r.median(lambda one: one.cold_command)
        return verdict(f"{ratio:.1f}×", ratio >= GOAL_LOOP)

    def work_goal(measure: Callable[[Round], float]) -> Callable[[SizeResult], str]:
        return lambda r: verdict(seconds(r.median(measure)), r.median(measure) <= GOAL_WARM)

    return [
        row("cold sync: whole command", lambda r: seconds(r.median(lambda one: one.cold_command))),
        row("cold sync: `seconds` field (work)", lambda r: seconds(r.median(lambda one: one.cold_work))),
        row("floor: one psql -1 of all files", lambda r: seconds(r.median(lambda one: one.floor))),
        row("per-file psql loop", loop_cell),
        row("warm sync right after cold: whole command", lambda r: seconds(r.median(lambda one: one.first_warm_command))),
        row("warm sync right after cold: `seconds` (work)", work_goal(lambda one: one.first_warm_work), f"≤ {GOAL_WARM:g} s"),
        row("warm sync back to back: whole command", lambda r: seconds(r.median(lambda one: one.back_to_back_command))),
        row("warm sync back to back: `seconds` (work)", work_goal(lambda one: one.back_to_back_work),
            f"≤ {GOAL_WARM:g} s"),
        row("warm sync, settled: whole command", lambda r: seconds(r.median(lambda one: one.warm_command))),
        row("warm sync, settled: `seconds` (work)", work_goal(lambda one: one.warm_work), f"≤ {GOAL_WARM:g} s"),
        row("cold command / floor", floor_ratio, f"≤ {GOAL_FLOOR:g}×"),
        row("cold work / floor", lambda r: f"{r.median(lambda one: one.cold_work / one.floor):.2f}×"),
        row("cold work / floor, each round",
            lambda r: " ".join(f"{one.cold_work / one.floor:.2f}" for one in r.rounds)),
        row("per-file loop / cold command", loop_ratio, f"≥ {GOAL_LOOP:g}×"),
    ]


def report(results: list[SizeResult], repeats: int, loop_repeats: int) -> None:
    """Print the results table and how to read it."""
    print_table(
        f"db.sync vs psql in the container (medians of {repeats} rounds)",
        ["measure", *(f"{r.files:,} files" for r in results), "goal"],
        rows(results),
        ["round: cold sync, warm sync right after it, another back to back, then (once no pgparity session is left "
         "on the server) a settled warm sync and the floor; `cold / floor` is the median of the rounds' own ratios, "
         "so a busy moment of the machine weighs on both sides.",
         "back to back: the detached process is still cloning the next spare; this sync renames in one of the two "
         "made before, waiting for nothing.",
         "whole command: `python -m pgparity db.sync --json [--no-cache]`: Python start, settings, discover and lint included.",
         "`seconds` field: db.sync's own figure: settings, discover and lint, lock, build or clone, swap; Python start and imports excluded.",
         "floor: `docker exec -i CONTAINER psql -1 -q -f -` of every file concatenated, into a new empty database.",
         f"per-file loop: one `docker exec -i CONTAINER psql -q -f -` per file into a new empty database, median of "
         f"{loop_repeats} runs; `first N ×k`: N files were run and the time scaled linearly to the whole tree.",
         "psql runs with -X -v ON_ERROR_STOP=1 so a failing file fails the benchmark instead of passing silently."],
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[300, 3000], help="migration tree sizes")
    parser.add_argument("--repeats", type=int, default=5, help="rounds of cold sync, warm syncs and floor")
    parser.add_argument("--loop-repeats", type=int, default=3, help="runs of the per-file psql loop")
    parser.add_argument("--loop-cap", type=int, default=300, help="files the per-file loop really runs")
    args = parser.parse_args()
    with environment() as env, tempfile.TemporaryDirectory(prefix="pgp-bench-") as folder:
        env.pgparity("db.up", cwd=Path(folder))
        results = [measure(env, Path(folder) / f"tree-{count}", count, args.repeats, args.loop_cap, args.loop_repeats)
                   for count in args.sizes]
    report(results, args.repeats, args.loop_repeats)


if __name__ == "__main__":
    main()
