"""Rendering for people (rich tables) and for CI (JSON); nothing here decides anything."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, is_dataclass
from typing import Any

from rich.console import Console
from rich.table import Table

from pgparity import config
from pgparity.errors import shown
from pgparity.migrations.position import label
from pgparity.schema.fix.plan import Words

PIPE_WIDTH = 160  # tables written to a file or CI log are not squeezed to 80 columns


def ci_mode() -> bool:
    """CI (the CI variable set, or output not a terminal): no colours or spinners, JSON also to a file."""
    return bool(os.environ.get("CI")) or not sys.stdout.isatty()


def _console(stream) -> Console:
    plain = ci_mode()
    return Console(file=stream, highlight=False, soft_wrap=True, no_color=plain,
                   width=PIPE_WIDTH if plain or not stream.isatty() else None)


out = _console(sys.stdout)
err = _console(sys.stderr)


def say(message: str) -> None:
    out.print(message, markup=False)


def warn(message: str) -> None:
    """A warning, masked like an error: it may quote the server, a URL or a setting."""
    err.print(f"pgparity: warning: {config.mask(message, config.secrets())}", markup=False, style="yellow")


def table(title: str | None, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    grid = Table(title=title, title_justify="left")
    for column in columns:
        grid.add_column(column, overflow="fold")
    for row in rows:
        grid.add_row(*("-" if value is None else str(value) for value in row))
    out.print(grid)


def as_json(value: Any) -> str:
    """Frozen dataclasses (and lists of them) as indented, key-sorted JSON."""
    return json.dumps(_plain(value), indent=2, sort_keys=True, default=str)


def _plain(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return asdict(value)
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value


def print_json(value: Any) -> None:
    sys.stdout.write(as_json(value) + "\n")


class MigrationBar:
    """A progress bar over migrations showing the current file, drawn on stderr."""

    def __init__(self) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self.bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                            TimeElapsedColumn(), console=err, transient=True)
        self.task = None

    def start(self, total: int) -> None:
        self.bar.start()
        self.task = self.bar.add_task("migrations", total=total)

    def step(self, display: str) -> None:
        self.bar.update(self.task, description=display)

    def done(self, timing) -> None:
        self.bar.advance(self.task)

    def close(self) -> None:
        self.bar.stop()


class DumpBar:
    """Per-table bars with rows/s for dump and restore, drawn on stderr."""

    def __init__(self) -> None:
        from rich.progress import Progress, TextColumn, TimeElapsedColumn

        self.bar = Progress(TextColumn("{task.description}"), TextColumn("{task.fields[rows]:>12,} rows"),
                            TextColumn("{task.fields[rate]:>10,.0f} rows/s"), TimeElapsedColumn(),
                            console=err, transient=True)
        self.tasks: dict[str, object] = {}

    def start(self, tables: int) -> None:
        self.bar.start()

    def advance(self, table: str, rows: int, seconds: float) -> None:
        if table not in self.tasks:
            self.tasks[table] = self.bar.add_task(table, total=None, rows=0, rate=0.0)
        self.bar.update(self.tasks[table], rows=rows, rate=rows / seconds if seconds else 0.0)

    def done(self, report) -> None:
        self.advance(report.entry.table, report.entry.rows, report.seconds)

    def close(self) -> None:
        self.bar.stop()


@contextmanager
def bar(kind: type, enabled: bool = True) -> Iterator[object | None]:
    """A progress display for the duration of a step; None (no output) for JSON runs and CI."""
    shown = kind() if enabled and not ci_mode() else None
    try:
        yield shown
    finally:
        if shown:
            shown.close()


def findings(items) -> None:
    """Lint findings, one per line on stderr (errors are also raised by the caller)."""
    for finding in items:
        style = {"error": "red", "warning": "yellow"}.get(finding.level)
        err.print(str(finding), markup=False, style=style)


# How a fix file names its sides, by db.fix's --target.
FIX_WORDS = {"prod": Words("local", "production", "locally", "in production"),
             "dev": Words("migrations", "dev", "in the migrations", "in dev")}
SIDES = {"local": ("Dev", "Migrations"), "production": ("Local", "Production"), "diff": ("Source", "Target")}
TITLES = {
    "local": "Local drift: the dev database vs a fresh replay of the migrations",
    "production": "Production drift: the production profile vs the migrations it applied",
    "diff": "Differences: source vs target",
}


def status_label(status: str, sides: tuple[str, str]) -> str:
    if status == "different":
        return "Different"
    missing = sides[0] if status == "missing_in_local" else sides[1]
    return f"Missing in {missing.lower()}"


def row_name(difference) -> str:
    """The first column: a column's name, or the kind and name of any other object, plus the attribute."""
    name = difference.name if difference.kind == "column" else f"{difference.kind.replace('_', ' ')} {difference.name}".strip()
    if difference.attribute and not (difference.kind == "column" and difference.attribute == "type"):
        name += f" ({difference.attribute})"
    return name


def verdict(result) -> None:
    """The drift tables, grouped per scope and per table or object, then one summary line."""
    for scope in ("local", "production", "diff"):
        findings = [f for f in result.findings if f.scope == scope]
        if not findings:
            continue
        sides = SIDES[scope]
        out.print(TITLES[scope], style="bold", markup=False)
        objects = sorted({f.difference.object for f in findings})
        for name in objects:
            rows = [
                (row_name(f.difference), f.difference.source, f.difference.target,
                 status_label(f.difference.status, sides) + (" (ignored)" if f.ignored else "")
                 + (" (version only)" if f.difference.version_only else ""))
                for f in findings if f.difference.object == name
            ]
            table(name, ("Column", *sides, "Status"), rows)
    if result.position is not None and (result.position.pending or result.position.remarks):
        position(result.position)
    server_version(result.server)
    say(summary_line(result))


# How each scope names the servers it compares (source, target), and what to do when their majors differ.
SERVER_WORDS = {"production": ("dev", "production"), "diff": ("the source", "the target")}
MAJOR_ADVICE = {
    "production": ("dev must run production's major: unset PGPARITY_IMAGE so that db.up follows the profile (or pin "
                   "an image of that major), then `invoke db.up` and `invoke db.sync`; until then, schema rows "
                   "may only be how another major prints its catalogs"),
    "diff": "catalogs of two majors print some objects differently: compare schemas captured on one major",
}


def server_sentence(check) -> str:
    """`production runs PostgreSQL 15.20, dev runs 17.12`: the target first, as it is the reference."""
    source, target = SERVER_WORDS[check.scope]
    return f"{target} runs PostgreSQL {check.target.release}, {source} runs {check.source.release}"


def server_version(check) -> None:
    """The servers' versions, apart from the schema: another major fails, another minor is a warning."""
    if check is None or check.status == "same":
        return
    if check.status == "minor_mismatch":
        warn(f"{server_sentence(check)}: another minor release of the same major, not drift")
        return
    out.print("Server version", style="bold", markup=False)
    say(f"{server_sentence(check)}: {MAJOR_ADVICE[check.scope]}")


def difference_json(d) -> dict[str, str | None]:
    """A difference as the JSON report has it: its source is "local", its target "production"."""
    return {"kind": d.kind, "object": d.object, "name": d.name, "attribute": d.attribute,
            "local": d.source, "production": d.target, "status": d.status, "version_only": d.version_only}


def verdict_json(result) -> dict[str, object]:
    counts: dict[str, int] = {}
    for finding in result.drift:
        counts[finding.scope] = counts.get(finding.scope, 0) + 1
    document: dict[str, object] = {
        "status": result.status,
        "differences": [{"scope": f.scope, **difference_json(f.difference), "ignored": f.ignored}
                        for f in result.findings],
        "summary": {
            "differences": len(result.drift),
            "ignored": sum(1 for f in result.findings if f.ignored),
            "by_scope": counts,
            "pending_in_production": [label(m) for m in result.pending_in_production],
        },
    }
    if result.position is not None:
        document["production_position"] = result.position.to_json()
    if result.server is not None:
        document["server_version"] = server_json(result.server)
    return document


def server_json(check) -> dict[str, str]:
    """Both sides' releases (source as "local", target as "production", like a difference) and the status."""
    document = {"local": check.source.release, "production": check.target.release, "status": check.status}
    if check.status != "same":
        document["message"] = server_sentence(check)
    if check.status == "major_mismatch":
        document["advice"] = MAJOR_ADVICE[check.scope]
    return document


def position(found) -> None:
    """Where production stands and how pgparity knows; the migrations pending there, which are not drift."""
    say(f"production: {found.evidence} [{found.source}]")
    for remark in found.remarks:
        warn(remark)
    if found.pending:
        out.print("Pending in production (not drift: deployed after this push)", style="bold", markup=False)
        for migration in found.pending:
            say(f"  {shown(migration.path)}")


def summary_line(result) -> str:
    drift = result.drift
    by_major = sum(1 for f in result.findings if f.difference.version_only and not f.ignored)
    ignored = len(result.findings) - len(drift) - by_major
    pending = [f"{m.version} {m.name}" for m in result.pending_in_production]
    tail = (f"; {ignored} ignored" if ignored else "") + (
        f"; {by_major} printed differently by the two majors (not drift)" if by_major else "") + (
        f"; {len(pending)} migrations pending in production: {', '.join(pending)}" if pending else "")
    if result.failed and not drift:
        return "version mismatch: no schema differences, but the servers run different majors" + tail
    if not drift:
        return "parity: no differences" + tail
    scopes = sorted({f.scope for f in drift})
    counts = ", ".join(f"{scope} {sum(1 for f in drift if f.scope == scope)}" for scope in scopes)
    return f"drift: {len(drift)} differences ({counts})" + tail


MARKS = {"ok": "✓", "warn": "!", "fail": "✗"}


def checklist(checks) -> None:
    """One line per check: a mark, its name, what was found, and how to fix it."""
    for check in checks:
        hint = f" — {check.hint}" if check.hint else ""
        style = {"warn": "yellow", "fail": "red"}.get(check.state)
        out.print(f"{MARKS[check.state]} {check.name}: {check.detail}{hint}", markup=False, style=style)


def table_reports(reports) -> None:
    """Rows per table and the rules applied to each, after a dump or restore."""
    table(None, ("Table", "Rows", "Rows/s", "Subset", "Rules"),
          [(r.entry.table, f"{r.entry.rows:,}", f"{r.rows_per_second:,.0f}", r.entry.subset or "all",
            ", ".join(f"{column}={rule}" for column, rule in r.entry.masked) or "-") for r in reports])
