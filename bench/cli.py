"""How long the daily commands take as a person feels them: whole commands, interpreter start included.

In one run, against the interpreter's own floors (`python -c pass`, `python -c "import invoke"`): `db.lint` of
300 migrations (their lint cached, as on every run after the first), a warm `db.sync` of them, `db.status`,
and `db.verify --revision HEAD` on the seed example (what the pre-push hook runs); then lint on first sight of
a 30 MB migration of INSERTs, in MB/s, with the command's peak memory against that of `db.lint` on the 300 small
files (the command's own baseline) plus twice the file's largest statement.
Run it from the repository: `.venv/bin/python bench/cli.py [--repeats 5]`.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (  # noqa: E402
    PYTHON,
    ROOT,
    BenchError,
    Environment,
    environment,
    median,
    print_table,
    progress,
    seconds,
    verdict,
)
from sync import write_tree  # noqa: E402

FILES = 300
LINT_WORK = 0.1  # seconds of work db.lint may add to 1.5 × the `import invoke` floor
GOAL_LINT_FLOOR = 1.5
GOAL_WARM = 0.5
GOAL_VERIFY = 1.2
GOAL_MB_S = 50.0
BIG_MB = 30
ROWS_PER_STATEMENT = 1000


@dataclass(frozen=True)
class Sample:
    """One whole command: wall-clock seconds, peak resident memory (KiB) and exit status."""

    seconds: float
    peak_kib: int
    status: int


def sample(argv: list[str], cwd: Path, env: dict[str, str], allowed: tuple[int, ...] = (0,)) -> Sample:
    """Run `argv` once and time it from spawn to exit, with its own peak memory (wait4 reports it per child)."""
    with tempfile.TemporaryFile() as errors:
        started = time.perf_counter()
        child = subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=errors)
        _, status, usage = os.wait4(child.pid, 0)
        elapsed = time.perf_counter() - started
        child.returncode = code = os.waitstatus_to_exitcode(status)
        if code not in allowed:
            errors.seek(0)
            said = errors.read().decode(errors="replace").strip()[-800:]
            raise BenchError(f"`{' '.join(argv)}` exited {code}: {said}")
    return Sample(elapsed, usage.ru_maxrss, code)


def repeated(argv: list[str], cwd: Path, env: dict[str, str], repeats: int,
             allowed: tuple[int, ...] = (0,)) -> list[Sample]:
    return [sample(argv, cwd, env, allowed) for _ in range(repeats)]


def pgparity(*args: str) -> list[str]:
    return [str(PYTHON), "-m", "pgparity", *args]


def seed_project(folder: Path) -> Path:
    """The seed example as a user's repository: copied, committed (the hook verifies a commit)."""
    project = folder / "seed"
    shutil.copytree(ROOT / "examples" / "seed-drift", project)
    for argv in (["git", "init", "-q"], ["git", "add", "-A"],
                 ["git", "-c", "user.name=bench", "-c", "user.email=bench@localhost", "commit", "-q", "-m", "seed"]):
        subprocess.run(argv, cwd=project, check=True)
    return project


def big_migration(path: Path) -> tuple[int, int]:
    """About BIG_MB MB of multi-row INSERTs with quoted text, as a data migration or a converted dump has: its
    size and that of its largest statement, in bytes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    written = row = largest = 0
    with path.open("w", encoding="utf-8") as out:
        out.write("CREATE TABLE notes (id integer PRIMARY KEY, email text, body text);\n")
        while written < BIG_MB * 1_000_000:
            rows = ",\n".join(f"({row + i}, 'user{row + i}@example.com', 'it''s note {row + i}; (see {i})')"
                              for i in range(ROWS_PER_STATEMENT))
            row += ROWS_PER_STATEMENT
            size = out.write(f"INSERT INTO notes (id, email, body) VALUES\n{rows};\n")
            written, largest = written + size, max(largest, size)
    return path.stat().st_size, largest


def measure(env: Environment, seed_env: Environment, folder: Path,
            repeats: int) -> tuple[dict[str, list[Sample]], dict[str, float]]:
    """Every timed command, by label; and the lint figures of the big file."""
    variables = env.variables()
    found: dict[str, list[Sample]] = {}
    progress("floors")
    found["python -c pass"] = repeated([str(PYTHON), "-c", "pass"], folder, variables, repeats)
    found["python -c 'import invoke'"] = repeated([str(PYTHON), "-c", "import invoke"], folder, variables, repeats)

    tree = folder / "tree"
    write_tree(tree / "migrations", FILES)
    progress(f"{FILES} files: db.up, a first sync")
    sample(pgparity("db.up"), tree, variables)
    sample(pgparity("db.sync"), tree, variables)
    sample(pgparity("db.lint"), tree, variables)  # the lint cache as every run after the first finds it
    progress("db.lint, warm db.sync, db.status")
    found[f"db.lint ({FILES} files)"] = repeated(pgparity("db.lint"), tree, variables, repeats)
    found[f"db.sync, warm ({FILES} files)"] = repeated(pgparity("db.sync"), tree, variables, repeats)
    found["db.status"] = repeated(pgparity("db.status"), tree, variables, repeats)

    seed = seed_project(folder)
    seeded = seed_env.variables()
    progress("seed example: db.up, db.sync, then db.verify as the hook runs it")
    sample(pgparity("db.up"), seed, seeded)
    sample(pgparity("db.sync"), seed, seeded)
    found["db.verify --revision HEAD (seed, the hook)"] = repeated(
        pgparity("db.verify", "--revision", "HEAD"), seed, seeded, repeats, allowed=(0, 1))

    progress(f"lint of a {BIG_MB} MB migration on first sight")
    big = folder / "big"
    size, largest = big_migration(big / "migrations" / "001_notes.sql")
    firsts = []
    for _ in range(max(1, repeats // 2)):
        shutil.rmtree(big / ".pgparity-cache", ignore_errors=True)
        firsts.append(sample(pgparity("db.lint"), big, variables))
    found[f"db.lint, first sight of {size / 1e6:.0f} MB"] = firsts
    floor = median([s.seconds for s in found["python -c 'import invoke'"]])
    lint_seconds = median([s.seconds for s in firsts]) - floor
    figures = {"bytes": size, "mb_s": size / 1e6 / lint_seconds, "peak_kib": max(s.peak_kib for s in firsts),
               "floor_kib": max(s.peak_kib for s in found["python -c 'import invoke'"]),
               "baseline_kib": max(s.peak_kib for s in found[f"db.lint ({FILES} files)"]),
               "largest_kib": largest / 1024}
    return found, figures


def rows(found: dict[str, list[Sample]], figures: dict[str, float]) -> list[list[str]]:
    """One row per command: median seconds, ratio to each floor, its goal."""
    bare = median([s.seconds for s in found["python -c pass"]])
    invoke = median([s.seconds for s in found["python -c 'import invoke'"]])
    goals = {
        f"db.lint ({FILES} files)": (GOAL_LINT_FLOOR * invoke + LINT_WORK,
                                     f"≤ {GOAL_LINT_FLOOR:g}× import invoke + {LINT_WORK:g} s"),
        f"db.sync, warm ({FILES} files)": (GOAL_WARM, f"≤ {GOAL_WARM:g} s"),
        "db.status": (GOAL_WARM, f"≤ {GOAL_WARM:g} s"),
        "db.verify --revision HEAD (seed, the hook)": (GOAL_VERIFY, f"≤ {GOAL_VERIFY:g} s"),
    }
    table = []
    for label, samples in found.items():
        took = median([s.seconds for s in samples])
        limit, goal = goals.get(label, (None, ""))
        cell = seconds(took) if limit is None else verdict(seconds(took), took <= limit)
        table.append([label, cell, f"{took / bare:.1f}×", f"{took / invoke:.2f}×",
                      f"{median([s.peak_kib for s in samples]) / 1024:.0f} MiB", goal])
    mb_s = figures["mb_s"]
    table.append(["lint throughput, first sight", verdict(f"{mb_s:.0f} MB/s", mb_s >= GOAL_MB_S), "", "",
                  "", f"≥ {GOAL_MB_S:g} MB/s"])
    extra, allowed = figures["peak_kib"] - figures["baseline_kib"], 2 * figures["largest_kib"]
    table.append(["lint peak memory over db.lint's baseline", "", "", "",
                  verdict(f"{extra / 1024:+.1f} MiB", extra <= allowed),
                  f"≤ 2× the largest statement ({allowed / 1024:.2f} MiB)"])
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="runs of each command; the median is shown")
    args = parser.parse_args()
    with environment() as env, environment() as seed_env, \
            tempfile.TemporaryDirectory(prefix="pgparity-bench-cli-") as folder:
        found, figures = measure(env, seed_env, Path(folder), args.repeats)
    print_table(
        "whole commands against the interpreter's floors (median of each)",
        ["command", "seconds", "/ python -c pass", "/ import invoke", "peak memory", "goal"],
        rows(found, figures),
        [f"the {figures['bytes'] / 1e6:.0f} MB file: its lint's seconds are the command's less the "
         f"`import invoke` floor; the command's peak memory is {figures['peak_kib'] / 1024:.1f} MiB against "
         f"{figures['baseline_kib'] / 1024:.1f} MiB for db.lint of {FILES} small files and "
         f"{figures['floor_kib'] / 1024:.1f} MiB for `import invoke`; its largest statement is "
         f"{figures['largest_kib']:.0f} KiB",
         "db.sync and db.status run on a server already up; db.verify exits 1 on the seed (it drifts, by design)"])


if __name__ == "__main__":
    try:
        main()
    except BenchError as error:
        sys.exit(f"bench: {error}")
