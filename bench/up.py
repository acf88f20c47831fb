"""How long `pgparity db.up` takes compared with a bare `docker run` plus a pg_isready loop.

Three cases, measured in rounds that alternate pgparity and the baseline so both see the same machine:
a new volume (initdb runs), an existing volume (after `db.down`), and a container already running.
Run it from the repository: `.venv/bin/python bench/up.py [--rounds N]`.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (  # noqa: E402
    READY_TIMEOUT,
    BenchError,
    Environment,
    environment,
    free_port,
    median,
    print_table,
    progress,
    run,
    seconds,
    timed,
    verdict,
)

DATA = "/var/lib/postgresql/data"
GOAL_RATIO = 1.2
GOAL_RUNNING = 1.0
REPORTED = re.compile(r"\(port \d+, ([\d.]+)s\)")


@dataclass
class Samples:
    """Seconds per case: the whole command, and (for pgparity) the time db.up reports for its own work."""

    command: dict[str, list[float]] = field(default_factory=dict)
    reported: dict[str, list[float]] = field(default_factory=dict)

    def add(self, case: str, command: float, reported: float | None = None) -> None:
        self.command.setdefault(case, []).append(command)
        if reported is not None:
            self.reported.setdefault(case, []).append(reported)


def pgparity_up(env: Environment, cwd: Path, expect: str) -> tuple[float, float]:
    """Time one `db.up`; check it did what the case expects; the command's and the reported seconds."""
    elapsed, result = timed(lambda: env.pgparity("db.up", cwd=cwd))
    if f" {expect}: " not in result.stdout:
        raise BenchError(f"db.up was expected to say {expect!r}: {result.stdout.strip()}")
    return elapsed, float(REPORTED.search(result.stdout).group(1))


def pgparity_round(env: Environment, cwd: Path, samples: Samples) -> None:
    """New volume, then already running, then the existing volume after `db.down`; leaves nothing behind."""
    samples.add("new", *pgparity_up(env, cwd, "created"))
    samples.add("running", *pgparity_up(env, cwd, "already running"))
    env.pgparity("db.down", cwd=cwd)
    samples.add("existing", *pgparity_up(env, cwd, "created"))
    env.pgparity("db.down", "--volumes", "--yes", cwd=cwd)


def baseline_up(env: Environment, port: int, volume: str | None) -> str:
    """`docker run -d` the image, then `docker exec pg_isready` until it succeeds; the container's id."""
    argv = ["docker", "run", "-d", "--label", env.label, "-e", f"POSTGRES_PASSWORD={env.password}",
            "-p", f"127.0.0.1:{port}:5432"]
    argv += ["-v", f"{volume}:{DATA}"] if volume else []
    container = run([*argv, env.image]).stdout.strip()
    deadline = time.monotonic() + READY_TIMEOUT
    probe = ["docker", "exec", container, "pg_isready", "-h", "127.0.0.1"]
    while subprocess.run(probe, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode:
        if time.monotonic() > deadline:
            raise BenchError(f"baseline container {container[:12]} not ready after {READY_TIMEOUT:g}s")
    return container


def stop(container: str) -> None:
    """Stop cleanly (as db.down does) and remove the container, keeping its named volume."""
    run(["docker", "stop", container])
    run(["docker", "rm", container])


def initialised_volume(env: Environment, port: int) -> str:
    """A labelled named volume holding a cluster already initialised by the image."""
    volume = f"{env.project}_baseline"
    run(["docker", "volume", "create", "--label", env.label, volume])
    stop(baseline_up(env, port, volume))
    return volume


def baseline_round(env: Environment, port: int, volume: str, samples: Samples) -> None:
    """The bare baseline for a new (anonymous) volume and for the initialised named volume."""
    elapsed, container = timed(lambda: baseline_up(env, port, None))
    samples.add("new", elapsed)
    run(["docker", "rm", "-f", "-v", container])
    elapsed, container = timed(lambda: baseline_up(env, port, volume))
    samples.add("existing", elapsed)
    stop(container)


def ratio_row(case: str, pgparity: Samples, baseline: Samples) -> list[str]:
    """One case's medians and ratios against the baseline."""
    command, reported = median(pgparity.command[case]), median(pgparity.reported[case])
    bare = median(baseline.command[case])
    return [case + " volume", seconds(command), seconds(reported), seconds(bare),
            verdict(f"{command / bare:.2f}×", command / bare <= GOAL_RATIO), f"{reported / bare:.2f}×",
            f"≤ {GOAL_RATIO}×"]


def report(pgparity: Samples, baseline: Samples, rounds: int) -> None:
    """Print the results table and how to read it."""
    running, reported = median(pgparity.command["running"]), median(pgparity.reported["running"])
    rows = [ratio_row("new", pgparity, baseline), ratio_row("existing", pgparity, baseline),
            ["already running", verdict(seconds(running), running < GOAL_RUNNING), seconds(reported),
             "-", "-", "-", f"< {GOAL_RUNNING:g} s"]]
    print_table(
        f"db.up vs docker run + pg_isready loop (median of {rounds} rounds)",
        ["case", "pgparity db.up", "db.up's own figure", "baseline", "ratio", "ratio (own figure)", "goal"],
        rows,
        ["pgparity db.up: the whole `python -m pgparity db.up` command, Python start included.",
         "db.up's own figure: the seconds db.up prints (its work, Python start and imports excluded; 0.1 s steps).",
         "baseline: `docker run -d -e POSTGRES_PASSWORD -p 127.0.0.1:PORT:5432 IMAGE`, then "
         "`docker exec ID pg_isready -h 127.0.0.1` back to back until it succeeds.",
         "existing volume: pgparity after `db.down`; the baseline on a named volume initialised before the rounds.",
         "ratio: pgparity db.up / baseline; the goal applies to the whole command."],
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="rounds of every measurement (median reported)")
    rounds = parser.parse_args().rounds
    pgparity, baseline = Samples(), Samples()
    with environment() as env, tempfile.TemporaryDirectory(prefix="pgp-bench-") as folder:
        port = free_port()
        volume = initialised_volume(env, port)
        for number in range(1, rounds + 1):
            progress(f"round {number}/{rounds}")
            pgparity_round(env, Path(folder), pgparity)
            baseline_round(env, port, volume, baseline)
    report(pgparity, baseline, rounds)


if __name__ == "__main__":
    main()
