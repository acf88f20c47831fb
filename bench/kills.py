"""kill -9 at random moments of `db.migrate`, `db.fix` and `db.dump`: the next command must succeed with nothing
lost and nothing left behind.

One dev container; production is a database on the same server (reached by URL, as a real one would be).
Each round starts the command, kills it after a random delay, runs it again at once, and checks:

- migrate: every file applied once and recorded (no STARTED row), no INVALID index, no applying session left;
- fix: the fix pair whole (both files or neither), dev holds the fix, no second fix file;
- dump: the next dump removed the killed one's work folder and pg_dump container; its workers ended.

Run it from the repository: `.venv/bin/python bench/kills.py [--rounds 12] [--seed 7]`.
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import PYTHON, BenchError, Environment, environment, print_table, progress  # noqa: E402

BASE = {"001_t.sql": "create table t (id int);\ninsert into t select generate_series(1, 400000);"}
SLOW = {f"{n:03}_slow.sql": f"select pg_sleep(0.1);\ncreate table s{n} (id int);" for n in range(10, 30)}
CONCURRENT = {"030_ix.sql": "-- pgparity: no-transaction\ncreate index concurrently ix_t on t (id);",
              "031_wait.sql": "-- pgparity: no-transaction\nselect pg_sleep(0.5);",
              "032_ix2.sql": "-- pgparity: no-transaction\ncreate index concurrently ix_t2 on t ((id % 7));"}
APPLIERS = "select 1 from pg_stat_activity where application_name like 'pgparity-apply %'"
PROD = "shop"
PRODUCTION_SCHEMA = ("create table t (id int, note text);", "create table orders (id int primary key, total int);",
                     "insert into orders select i, i % 100 from generate_series(1, 200000) as i;")


@dataclass
class Outcome:
    command: str
    rounds: int = 0
    killed: int = 0
    recovered: int = 0
    warnings: int = 0
    problems: list[str] = field(default_factory=list)


class Bench:
    def __init__(self, env: Environment, root: Path, seed: int):
        self.env, self.root, self.random = env, root, random.Random(seed)

    def variables(self) -> dict[str, str]:
        return {**self.env.variables(), "PGPARITY_PROD_URL": self.url(PROD),
                "PGPARITY_SANITIZE_SECRET": "kills-bench-secret-0123456789",
                "PGPARITY_IMAGE_REPOSITORY": self.env.image.partition(":")[0]}

    def url(self, database: str = "app") -> str:
        return f"postgresql://postgres:{self.env.password}@127.0.0.1:{self.env.port}/{database}"

    def start(self, *args: str) -> subprocess.Popen:
        return subprocess.Popen([str(PYTHON), "-m", "pgparity", *args], cwd=self.root, env=self.variables(),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(PYTHON), "-m", "pgparity", *args], cwd=self.root, env=self.variables(),
                              capture_output=True, text=True, timeout=300)

    def must(self, *args: str) -> str:
        result = self.run(*args)
        if result.returncode:
            raise BenchError(f"db {' '.join(args)} exited {result.returncode}: {result.stderr.strip()[-600:]}")
        return result.stderr

    def query(self, statement: str, database: str = "app") -> list[tuple]:
        with psycopg.connect(self.url(database), autocommit=True) as conn:
            cursor = conn.execute(statement)
            return cursor.fetchall() if cursor.description else []

    def files(self, files: dict[str, str]) -> None:
        folder = self.root / "migrations"
        folder.mkdir(exist_ok=True)
        for name, text in files.items():
            (folder / name).write_text(text)

    def kill_at_random(self, args: tuple[str, ...], longest: float,
                       begun: Callable[[], object]) -> tuple[bool, list[int]]:
        """Start the command, kill -9 it a random delay after `begun` holds; whether it was still running then,
        and its descendants at the kill."""
        process = self.start(*args)
        while process.poll() is None and not begun():
            time.sleep(0.01)
        deadline = time.monotonic() + self.random.uniform(0, longest)
        while time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.01)
        alive = process.poll() is None
        descendants = children(process.pid)
        process.kill()
        process.communicate()
        return alive, descendants

    def round(self, outcome: Outcome, args: tuple[str, ...], longest: float, begun: Callable[[], object],
              check: Callable[[subprocess.CompletedProcess[str], list[int]], list[str]]) -> None:
        outcome.rounds += 1
        alive, descendants = self.kill_at_random(args, longest, begun)
        outcome.killed += alive
        after = self.run(*args)
        settled = after.returncode == 0 or "nothing to apply" in after.stderr  # a fix the kill let finish
        problems = check(after, descendants) if settled else [
            f"rerun exited {after.returncode}: {after.stderr.strip()[-300:]}"]
        outcome.warnings += "pgparity: warning:" in after.stderr
        if problems:
            outcome.problems.append(f"round {outcome.rounds}: " + "; ".join(problems))
        else:
            outcome.recovered += 1

    # ------------------------------------------------------------------------------------------- migrate

    def migrate(self, rounds: int) -> Outcome:
        outcome = Outcome("db.migrate")
        for number in range(rounds):
            progress(f"migrate round {number + 1}/{rounds}")
            shutil_rm(self.root / "migrations")
            self.files(BASE)
            self.must("db.sync")
            self.files({**SLOW, **CONCURRENT})
            self.round(outcome, ("db.migrate",), 4.0, self.applying, lambda after, _: self.migrated())
        return outcome

    def applying(self) -> bool:
        return bool(self.query(APPLIERS))

    def migrated(self) -> list[str]:
        problems = []
        rows = self.query("select version, state from pgparity.schema_migrations order by version")
        wanted = 1 + len(SLOW) + len(CONCURRENT)
        if len(rows) != wanted or {state for _, state in rows} != {"applied"}:
            problems.append(f"ledger has {len(rows)} rows of {wanted}, states {sorted({s for _, s in rows})}")
        if self.query("select 1 from pg_index where not indisvalid"):
            problems.append("an INVALID index is left")
        tables = self.query("select count(*) from pg_tables where schemaname = 'public' and tablename like 's%'")
        if tables != [(len(SLOW),)]:
            problems.append(f"{tables[0][0]} of {len(SLOW)} tables")
        if self.query(APPLIERS):
            problems.append("an applying session is left")
        return problems

    # ----------------------------------------------------------------------------------------------- fix

    def prepare_production(self) -> None:
        self.query(f"drop database if exists {PROD} with (force)", "postgres")
        self.query(f"create database {PROD}", "postgres")
        for statement in PRODUCTION_SCHEMA:
            self.query(statement, PROD)
        self.must("db.snapshot", "--from", "prod")

    def fix(self, rounds: int) -> Outcome:
        outcome = Outcome("db.fix")
        for number in range(rounds):
            progress(f"fix round {number + 1}/{rounds}")
            shutil_rm(self.root / "migrations")
            self.files({"001_t.sql": "create table t (id int);"})
            self.must("db.sync")
            self.round(outcome, ("db.fix",), 3.0, lambda: True, lambda after, _: self.fixed())
        return outcome

    def fixed(self) -> list[str]:
        problems = []
        folder = self.root / "migrations"
        forward = sorted(p.name for p in folder.glob("*_fix_production_drift.sql"))
        down = sorted(p.name for p in folder.glob("*_fix_production_drift.down.sql"))
        if len(forward) != 1 or len(down) != 1:
            problems.append(f"fix files {forward + down}")
        if any(p.stat().st_size == 0 for p in folder.glob("*.sql")):
            problems.append("an empty migration file")
        if not self.query("select 1 from information_schema.columns where table_name = 't' and column_name = 'note'"):
            problems.append("dev lacks the fix")
        return problems

    # ---------------------------------------------------------------------------------------------- dump

    def dump(self, rounds: int) -> Outcome:
        outcome = Outcome("db.dump")
        label = f"pgparity.dump-client={self.env.project}"
        for number in range(rounds):
            progress(f"dump round {number + 1}/{rounds}")
            self.round(outcome, ("db.dump",), 2.0, lambda: list((self.root / "dumps").glob(".pgparity-dump-*")),
                       lambda after, workers: self.dumped(label, workers))
        return outcome

    def dumped(self, label: str, workers: list[int]) -> list[str]:
        problems = []
        if list((self.root / "dumps").glob(".pgparity-dump-*")) or list((self.root / "dumps").glob("*.partial")):
            problems.append("a work folder or a partial archive is left")
        containers = subprocess.run(["docker", "ps", "-aq", "--filter", f"label={label}"], capture_output=True,
                                    text=True).stdout.split()
        if containers:
            problems.append(f"{len(containers)} pg_dump containers left")
        if alive := [pid for pid in workers if Path(f"/proc/{pid}").exists() and not zombie(pid)]:
            problems.append(f"workers {alive} outlived the killed dump")
        for old in sorted((self.root / "dumps").glob("*.sanitized.zip"))[:-1]:
            old.unlink()
        return problems


def children(pid: int) -> list[int]:
    """Every descendant of `pid` now."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parents[int(stat.parent.name)] = int(stat.read_text().rpartition(")")[2].split()[1])
        except (OSError, ValueError):
            continue
    found, frontier = [], [pid]
    while frontier:
        parent = frontier.pop()
        kids = [child for child, of in parents.items() if of == parent]
        found += kids
        frontier += kids
    return found


def zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0] == "Z"
    except OSError:
        return True


def shutil_rm(folder: Path) -> None:
    for path in folder.glob("*") if folder.is_dir() else ():
        path.unlink()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=12, help="kills per command")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--only", choices=("migrate", "fix", "dump"), action="append")
    options = parser.parse_args()
    with environment() as env, tempfile.TemporaryDirectory(prefix="pgparity-kills-") as folder:
        bench = Bench(env, Path(folder), options.seed)
        bench.must("db.up")
        bench.prepare_production()
        outcomes = [getattr(bench, name)(options.rounds) for name in options.only or ("migrate", "fix", "dump")]
    rows = [(o.command, str(o.rounds), str(o.killed), str(o.recovered), str(o.warnings), str(len(o.problems)))
            for o in outcomes]
    notes = ["killed: rounds in which the command was still running at the kill (else it had finished first; the "
             "next run is checked all the same)",
             "recovered: the next command succeeded and the checks found nothing lost and nothing left behind",
             "told: the next command said what it found (a dead session ended, an unfinished file settled, leftovers)"]
    notes += [f"{o.command} {problem}" for o in outcomes for problem in o.problems]
    print_table("kill -9 at random moments, then the same command again",
                ("command", "rounds", "killed", "recovered", "told", "problems"), rows, notes)
    if any(o.problems for o in outcomes):
        sys.exit(1)


if __name__ == "__main__":
    main()
