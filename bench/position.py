"""Inferring production's position against one cold replay of the same migrations.

A production built from the first 240 of 300 generated migrations keeps no ledger; pgparity parses every
file, places production among them, and replays the files it applied to compare (the verify that
follows). The floor is one cold replay of all 300 files into an empty database. Run:
`.venv/bin/python bench/position.py [--count N] [--repeats N]`.
"""

from __future__ import annotations

import argparse
import tempfile
import uuid
from dataclasses import replace
from pathlib import Path

import psycopg
from _common import find_image, median, print_table, server, timed, verdict
from psycopg import sql
from sync import write_tree

from pgparity.config import ProductionPolicy
from pgparity.migrations.discovery import discover
from pgparity.migrations.position import locate
from pgparity.migrations.sync import Quiet, replay
from pgparity.schema.introspect import inspect

GOAL = 2.0  # inference and the replay of what production applied, against one cold replay


def fresh(url: str) -> str:
    name = f"b_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE template0").format(sql.Identifier(name)))
    return name


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    deployed = args.count * 4 // 5
    with tempfile.TemporaryDirectory() as work, server(find_image()) as pg:
        paths = write_tree(Path(work) / "migrations", args.count)
        plan = discover(paths[0].parent)
        production = fresh(pg.url("postgres"))
        replay(pg.url(production), plan.migrations[:deployed], Quiet())
        with psycopg.connect(pg.url(production)) as conn:
            profile = replace(inspect(conn), ledger=None)  # a production that keeps no ledger
        cold, infer, applied = [], [], []
        for _ in range(args.repeats):
            cold.append(timed(lambda: replay(pg.url(fresh(pg.url("postgres"))), plan.migrations, Quiet()))[0])
            seconds, position = timed(lambda: locate(plan.migrations, profile, ProductionPolicy()))
            infer.append(seconds)
            applied.append(timed(lambda: replay(pg.url(fresh(pg.url("postgres"))), position.applied, Quiet()))[0])
        # Data-only files just before the position change nothing to look up: they are taken as pending.
        assert all(not m.sql.lstrip("-0123456789: \n").upper().startswith(("CREATE", "ALTER"))
                   for m in plan.migrations[len(position.applied):deployed]), position.evidence
    floor, inference, prefix = median(cold), median(infer), median(applied)
    ratio = (inference + prefix) / floor
    print_table(
        f"production's position among {args.count} migrations (median of {args.repeats})",
        ("what", "seconds", "/ cold replay"),
        [("one cold replay of every file (floor)", f"{floor:.3f}", "1.00"),
         ("inference: parse every file, place production", f"{inference:.3f}", f"{inference / floor:.2f}"),
         ("replay of the files production applied", f"{prefix:.3f}", f"{prefix / floor:.2f}"),
         ("inference + that replay", f"{inference + prefix:.3f}", verdict(f"{ratio:.2f}", ratio <= GOAL))],
        [f"goal: inference and its replay within {GOAL:g}x one cold replay; found {position.evidence}"])


if __name__ == "__main__":
    main()
