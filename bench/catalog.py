"""How long inspect takes on a 1,000-table schema, now and at an earlier revision, in the same run.

Each new kind of object read from the catalogs costs a schema that holds none of them something; this
measures what. One throwaway server holds bench/verify.py's schema A (1,000 tables, 10,000 columns,
3,000 indexes, 200 views, 200 functions, and none of the newer kinds). Each round runs one child process
per revision, in turn, that connects, inspects once to warm the server's caches, then times `--inspects`
inspects; the baseline's `src/` is exported from git into a temporary folder. The table gives each
revision's median and the ratio now/baseline.
Run it from the repository: `.venv/bin/python bench/catalog.py [--baseline REV] [--repeats N]`.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import PYTHON, ROOT, find_image, median, print_table, progress, run, server, verdict  # noqa: E402
from verify import DATABASE_A, base_schema  # noqa: E402

# The last revision before the catalogs were read for privileges of every kind and object options.
BEFORE_OPTIONS = "ab3a7b9~1"
GOAL = 1.0  # no slower: at most the baseline's median
CHILD = """
import json, sys, time
import psycopg
from pgparity.schema.introspect import inspect
url, count = sys.argv[1], int(sys.argv[2])
with psycopg.connect(url) as conn:
    inspect(conn)
    times = []
    for _ in range(count):
        started = time.perf_counter()
        inspect(conn)
        times.append(time.perf_counter() - started)
print(json.dumps(times))
"""


def exported(revision: str, into: Path) -> Path:
    """The revision's src/ folder, written out of git (no worktree to clean up)."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", revision, "src"], capture_output=True, check=False)
    if archive.returncode:
        raise SystemExit(f"bench/catalog.py: git cannot export {revision}: {archive.stderr.decode().strip()}")
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive.stdout, check=True)
    return into / "src"


def inspect_times(source: Path, url: str, count: int) -> list[float]:
    child = run([str(PYTHON), "-c", CHILD, url, str(count)], env={"PYTHONPATH": str(source), "PATH": "/usr/bin"})
    return json.loads(child.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", default=BEFORE_OPTIONS, help=f"git revision to compare with ({BEFORE_OPTIONS})")
    parser.add_argument("--repeats", type=int, default=5, help="rounds, each one child process per revision")
    parser.add_argument("--inspects", type=int, default=3, help="timed inspects per child process")
    args = parser.parse_args()
    if args.repeats < 1 or args.inspects < 1:
        parser.error("--repeats and --inspects must be at least 1")
    samples: dict[str, list[float]] = {"baseline": [], "now": []}
    with tempfile.TemporaryDirectory(prefix="pgparity-bench-") as folder, server(find_image()) as target:
        sources = {"baseline": exported(args.baseline, Path(folder)), "now": ROOT / "src"}
        progress(f"creating {DATABASE_A}")
        target.psql("postgres", f"CREATE DATABASE {DATABASE_A};")
        target.psql(DATABASE_A, base_schema(), "-1")
        target.psql(DATABASE_A, "VACUUM ANALYZE;")
        for number in range(1, args.repeats + 1):
            progress(f"round {number}/{args.repeats}")
            for name, source in sources.items():
                samples[name] += inspect_times(source, target.url(DATABASE_A), args.inspects)
    baseline, now = median(samples["baseline"]), median(samples["now"])
    ratio = now / baseline
    print_table(
        f"inspect of 1,000 tables: now against {args.baseline}",
        ["measure", "baseline", "now", f"now / baseline (goal ≤ {GOAL:.2f})"],
        [["inspect", f"{baseline:.3f} s", f"{now:.3f} s", verdict(f"{ratio:.3f}", ratio <= GOAL)]],
        [f"medians of {args.repeats} × {args.inspects} inspects per revision, each child after a warm-up "
         "inspect, the revisions taking turns round by round"],
    )


if __name__ == "__main__":
    main()
