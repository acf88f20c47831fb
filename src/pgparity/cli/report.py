"""Rendering for people (rich tables, Markdown) and for CI (JSON, JUnit XML); nothing here decides anything."""

from __future__ import annotations

import json
import os
import re
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, fields, is_dataclass
from typing import Any

from pgparity import config
from pgparity.errors import counted, shown
from pgparity.lazy import later
from pgparity.migrations.model import SEVERITIES, Version

# rich only when something is drawn on a terminal (or a table at all); the verdict's helpers only with a verdict.
rich = later("rich")
hazard_rules = later("pgparity.migrations.hazards")
handlers = later("pgparity.schema.fix.handlers")
fix_plan = later("pgparity.schema.fix.plan")
diffing = later("pgparity.schema.diff")

PIPE_WIDTH = 160  # tables written to a file or CI log are not squeezed to 80 columns


def in_ci() -> bool:
    """The CI variable is set: a CI job, whose verify and diff also write the JSON report file."""
    return bool(os.environ.get("CI"))


def ci_mode() -> bool:
    """CI, or output not a terminal (a hook, `| less`): no colours, spinners or bars, ASCII tables."""
    return in_ci() or not sys.stdout.isatty()


def _console(stream):
    from rich.console import Console

    plain = ci_mode()
    return Console(file=stream, highlight=False, soft_wrap=True, no_color=plain,
                   width=PIPE_WIDTH if plain or not stream.isatty() else None)


STREAMS = ("out", "err")


def stream(name: str):
    return sys.stdout if name == "out" else sys.stderr


def __getattr__(name: str) -> Any:
    """`out` and `err`, rich consoles made on first use (a test may set its own); `FIX_WORDS` likewise."""
    if name in STREAMS:
        globals()[name] = found = _console(stream(name))
    elif name == "FIX_WORDS":
        globals()[name] = found = {
            "prod": fix_plan.Words("local", "production", "locally", "in production"),
            "dev": fix_plan.Words("the migrations' schema", "the dev database", "in the migrations",
                                  "in the dev database")}
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return found


def console(name: str):
    return globals().get(name) or __getattr__(name)


def line(name: str, text: str, style: str | None = None) -> None:
    """One line of plain text: written as it is without a terminal (rich is not imported for it), else by rich."""
    if name not in globals() and ci_mode():
        stream(name).write(text + "\n")
        return
    console(name).print(text, markup=False, highlight=False, style=style)


def say(message: str) -> None:
    line("out", message)


def warn(message: str) -> None:
    """A warning, masked like an error: it may quote the server, a URL or a setting."""
    line("err", f"pgparity: warning: {config.mask(message, config.secrets())}", style="yellow")


def table(title: str | None, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """A table; drawn with ASCII borders in CI mode, where a log viewer may not show box-drawing."""
    from rich import box
    from rich.table import Table

    grid = Table(title=title, title_justify="left", box=box.ASCII if ci_mode() else box.HEAVY_HEAD)
    for column in columns:
        grid.add_column(column, overflow="fold")
    for row in rows:
        grid.add_row(*("-" if value is None else str(value) for value in row))
    console("out").print(grid)


def spinner(text: str):
    """A spinner on stderr while a step waits (rich draws nothing without a terminal)."""
    from rich.status import Status

    return Status(text, console=console("err"))


def as_json(value: Any) -> str:
    """Frozen dataclasses (and lists of them) as indented, key-sorted JSON."""
    return json.dumps(_plain(value), indent=2, sort_keys=True, default=str)


def _plain(value: Any) -> Any:
    """A version as the text its layout writes (`1.2`); any other dataclass field by field."""
    if isinstance(value, Version):
        return str(value)
    if is_dataclass(value) and not isinstance(value, type):
        return {field.name: _plain(getattr(value, field.name)) for field in fields(value)}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    return value


def print_json(value: Any) -> None:
    sys.stdout.write(as_json(value) + "\n")


class MigrationBar:
    """A progress bar over migrations showing the current file, drawn on stderr."""

    def __init__(self) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self.bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                            TimeElapsedColumn(), console=console("err"), transient=True)
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
                            console=console("err"), transient=True)
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


LINE_SECONDS = 5.0  # without a terminal, at most one progress line this often


class Lines:
    """Progress without a terminal: a timestamped line on stderr at most every LINE_SECONDS, none for work
    that ends sooner, and a last line when any was printed."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.started = self.last = clock()
        self.printed = False

    def line(self, text: str, last: bool = False) -> None:
        now = self.clock()
        if (last and self.printed) or (not last and now - self.last >= LINE_SECONDS):
            self.last, self.printed = now, True
            line("err", f"{time.strftime('%H:%M:%S')} {text} ({now - self.started:.0f}s)")


class MigrationLines(Lines):
    """The migrations replayed so far and the current file, as lines."""

    total = applied = 0
    current = ""

    def start(self, total: int) -> None:
        self.total = total

    def step(self, display: str) -> None:
        self.current = display
        self.line(f"migrations: {self.applied} of {self.total} applied, now {display}")

    def done(self, timing) -> None:
        self.applied += 1
        self.line(f"migrations: {self.applied} of {self.total} applied, last {self.current}")

    def close(self) -> None:
        self.line(f"migrations: {self.applied} of {self.total} applied", last=True)


class DumpLines(Lines):
    """Rows read or loaded per table and the tables done, as lines."""

    total = finished = 0

    def start(self, tables: int) -> None:
        self.total = tables

    def advance(self, table: str, rows: int, seconds: float) -> None:
        self.line(f"{table}: {counted(rows, 'row')}; {self.finished} of {counted(self.total, 'table')} done")

    def done(self, report) -> None:
        self.finished += 1
        self.line(f"{report.entry.table}: {counted(report.entry.rows, 'row')}, done; "
                  f"{self.finished} of {counted(self.total, 'table')} done")

    def close(self) -> None:
        self.line(f"{self.finished} of {counted(self.total, 'table')} done", last=True)


WITHOUT_TERMINAL = {MigrationBar: MigrationLines, DumpBar: DumpLines}


@contextmanager
def bar(kind: type, enabled: bool = True) -> Iterator[object | None]:
    """A progress display for the duration of a step: bars on a terminal, throttled lines in CI mode, None
    (no output) for JSON runs."""
    shown = (WITHOUT_TERMINAL[kind] if ci_mode() else kind)() if enabled else None
    try:
        yield shown
    finally:
        if shown:
            shown.close()


def findings(items) -> None:
    """Lint findings, one per line on stderr (errors are also raised by the caller)."""
    for finding in items:
        style = {"error": "red", "warning": "yellow"}.get(finding.level)
        line("err", str(finding), style)


SCOPES = ("local", "production", "diff")
SIDES = {"local": ("Dev", "Migrations"), "production": ("Local", "Production"), "diff": ("Source", "Target")}
TITLES = {
    "local": "Local drift: the dev database vs a fresh replay of the migrations",
    "production": "Production drift: the production profile vs the migrations it applied",
    "diff": "Differences: source vs target",
}
CHECKS = {"local": "local drift", "production": "production drift", "diff": "differences"}
FIX_HINTS = {
    "local": "`invoke db.sync` rebuilds dev from the migrations; `invoke db.fix --target dev` turns hand edits "
             "in dev into a migration",
    "production": "`invoke db.fix` writes the migration that brings the migrations to production",
    "diff": "`invoke db.fix` writes a migration for production's drift, `invoke db.fix --target dev` one for dev's",
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


def cell(difference, value: str | None) -> str | None:
    """A value as a table shows it: a missing object's summary shortened, a differing value whole."""
    return value if value is None or difference.status == diffing.DIFFERENT else diffing.short(value)


def verdict(result) -> None:
    """The drift tables, grouped per scope and per table or object, then one summary line."""
    for scope in SCOPES:
        findings = [f for f in result.findings if f.scope == scope]
        if not findings:
            continue
        sides = SIDES[scope]
        line("out", TITLES[scope], style="bold")
        objects = sorted({f.difference.object for f in findings})
        for name in objects:
            rows = [
                (row_name(f.difference), cell(f.difference, f.difference.source),
                 cell(f.difference, f.difference.target),
                 status_label(f.difference.status, sides) + (" (ignored)" if f.ignored else "")
                 + (" (version only)" if f.difference.version_only else ""))
                for f in findings if f.difference.object == name
            ]
            table(name, ("Column", *sides, "Status"), rows)
    if result.position is not None and (result.position.pending or result.position.remarks):
        position(result.position)
    server_version(result.server)
    if any(item.hazards for item in result.hazards):
        hazards(result.hazards)
    for hint in superuser_hints(result.drift):
        warn(hint)
    say(summary_line(result))


def hazards(reviewed) -> None:
    """Each hazard a row under its file, highest first; files measured away from production say so."""
    for item in reviewed:
        if not item.hazards and item.readable:
            continue
        where = " (in production already: measured where its changes are missing)" if item.elsewhere else ""
        rows = [(h.line or "-", h.severity + (" (allowed)" if h.allowed else ""), h.code, h.lock or "-", h.sized)
                for h in hazard_rules.ranked(item.hazards)]
        if not item.readable:
            rows.append(("-", "-", "-", "-", "the parser cannot read this file; its hazards are unknown"))
        table(f"{shown(item.migration.path)}{where}", ("Line", "Severity", "Hazard", "Lock", "What"), rows)
    say(hazard_summary(reviewed))


def hazard_summary(reviewed) -> str:
    """How many files and hazards, by severity; in-production fixes counted apart (they change nothing there)."""
    pending = [item for item in reviewed if not item.elsewhere]
    elsewhere = [item for item in reviewed if item.elsewhere]
    text = f"hazards: {counted(len(pending), 'file')} pending in production, {hazard_counts(pending)}"
    if elsewhere:
        text += (f"; {counted(len(elsewhere), 'in-production fix', 'in-production fixes')}, measured where its "
                 f"changes are missing: {hazard_counts(elsewhere)}")
    return text


def hazard_counts(reviewed) -> str:
    found = [h for item in reviewed for h in item.hazards]
    allowed = sum(1 for h in found if h.allowed)
    levels = ", ".join(f"{sum(1 for h in found if h.severity == level and not h.allowed)} {level}"
                       for level in reversed(SEVERITIES))
    return f"{counted(len(found) - allowed, 'hazard')} ({levels})" + (f", {allowed} allowed" if allowed else "")


def hazard_json(item) -> dict[str, object]:
    return {"file": shown(item.migration.path), "migration": item.migration.label, "in_production": item.elsewhere,
            "readable": item.readable,
            "hazards": [{"code": h.code, "severity": h.severity, "allowed": h.allowed, "lock": h.lock, "line": h.line,
                         "relation": ".".join(h.relation) if h.relation else None, "message": h.message,
                         "rows": h.size.rows if h.size else None, "bytes": h.size.bytes if h.size else None}
                        for h in hazard_rules.ranked(item.hazards)]}


def markdown_hazards(reviewed) -> list[str]:
    found = [(item, h) for item in reviewed for h in hazard_rules.ranked(item.hazards)]
    if not found:
        return []
    lines = ["", "### Deploy hazards of the migrations pending in production", "",
             markdown_row(("File", "Line", "Severity", "Hazard", "Lock", "What")), markdown_row(("---",) * 6)]
    return lines + [markdown_row((markdown_code(shown(item.migration.path)), str(h.line or ""),
                                  markdown_text(h.severity + (" (allowed)" if h.allowed else "")), markdown_text(h.code),
                                  markdown_text(h.lock or ""), markdown_text(h.sized)))
                    for item, h in found]


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
    line("out", "Server version", style="bold")
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
            "pending_in_production": [m.label for m in result.pending_in_production],
        },
    }
    if result.position is not None:
        document["production_position"] = result.position.to_json()
    if result.server is not None:
        document["server_version"] = server_json(result.server)
    if result.hazards:
        document["hazards"] = [hazard_json(item) for item in result.hazards]
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
        line("out", "Pending in production (not drift: deployed after this push)", style="bold")
        for migration in found.pending:
            say(f"  {shown(migration.path)}")


def summary_line(result) -> str:
    drift = result.drift
    by_major = sum(1 for f in result.findings if f.difference.version_only and not f.ignored)
    ignored = len(result.findings) - len(drift) - by_major
    pending = [m.label for m in result.pending_in_production]
    tail = (f"; {ignored} ignored" if ignored else "") + (
        f"; {by_major} printed differently by the two majors (not drift)" if by_major else "") + (
        f"; {counted(len(pending), 'migration')} pending in production: {', '.join(pending)}" if pending else "")
    if result.failed and not drift:
        return "version mismatch: no schema differences, but the servers run different majors" + tail
    if not drift:
        return "parity: no differences" + tail
    scopes = sorted({f.scope for f in drift})
    counts = ", ".join(f"{scope} {sum(1 for f in drift if f.scope == scope)}" for scope in scopes)
    return f"drift: {counted(len(drift), 'difference')} ({counts})" + tail


MARKS = {"ok": "✓", "warn": "!", "fail": "✗"}


def checklist(checks) -> None:
    """One line per check: a mark, its name, what was found, and how to fix it."""
    for check in checks:
        hint = f" — {check.hint}" if check.hint else ""
        style = {"warn": "yellow", "fail": "red"}.get(check.state)
        line("out", f"{MARKS[check.state]} {check.name}: {check.detail}{hint}", style)


def table_reports(reports) -> None:
    """Rows per table and the rules applied to each, after a dump or restore."""
    table(None, ("Table", "Rows", "Rows/s", "Subset", "Rules"),
          [(r.entry.table, f"{r.entry.rows:,}", f"{r.rows_per_second:,.0f}", r.entry.subset or "all",
            ", ".join(f"{column}={rule}" for column, rule in r.entry.masked) or "-") for r in reports])


def checks(result) -> list[str]:
    """The scopes a verdict compared, in the report's order: those it checked and any holding a finding."""
    found = {f.scope for f in result.findings}
    return [scope for scope in SCOPES if scope in result.checked or scope in found]


def hints(result) -> list[str]:
    """What to run: the fix of each scope with drift, what of it needs a superuser, and the advice for servers
    of another major."""
    scopes = {f.scope for f in result.drift}
    major = result.server is not None and result.server.status == "major_mismatch"
    advice = [MAJOR_ADVICE[result.server.scope]] if major else []
    return [FIX_HINTS[scope] for scope in SCOPES if scope in scopes] + superuser_hints(result.drift) + advice


def superuser_hints(drift) -> list[str]:
    """One line naming the drifted objects only a superuser can make, change or drop, so a team whose
    migrations run as a managed service's ordinary role sees why those rows stay."""
    named = sorted({f"{f.difference.kind.replace('_', ' ')} {f.difference.object}" for f in drift
                    if handlers.needs_superuser(f.difference.kind)})
    if not named:
        return []
    return [f"{', '.join(named)}: only a superuser may create, alter or drop "
            f"{'it' if len(named) == 1 else 'them'}; where migrations run as an ordinary role (a managed "
            "service), a superuser applies those statements, or `[verify] ignore` lists them"]


def marks(finding) -> str:
    return (" (ignored)" if finding.ignored else "") + (" (version only)" if finding.difference.version_only else "")


# Markdown: for a pull request's comment and GitHub's job summary.

MARKDOWN_PUNCTUATION = re.compile(r"([\\`*_\[\]<>|~&])")  # what Markdown may read as markup inside a line


def markdown_text(text: str) -> str:
    """Prose on one line, whose characters Markdown would read as markup shown as they are."""
    return MARKDOWN_PUNCTUATION.sub(r"\\\1", re.sub(r"\s+", " ", text))


def markdown_code(value: str | None) -> str:
    """A value as a code span in a table cell: on one line, fenced by more backticks than it holds, its pipes
    escaped so they do not split the cell. A backslash before a pipe cannot be kept in a code span there
    (the table would read `\\|` as an escaped backslash and a cell border), so such a value is an HTML code
    element, every punctuation character escaped."""
    if value is None:
        return "-"
    text = diffing.one_line(value)
    if not text:
        return "(empty)"
    if "\\|" in text:
        return "<code>" + MARKDOWN_PUNCTUATION.sub(r"\\\1", text) + "</code>"
    fence = "`" * (max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    padding = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{padding}{text}{padding}{fence}".replace("|", "\\|")


def markdown_row(cells: Sequence[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def what_differs(difference) -> str:
    """The object's part that differs: a column or child by name, then the attribute; `-` for the whole object."""
    parts = [markdown_code(difference.name)] if difference.name else []
    parts += [markdown_text(difference.attribute)] if difference.attribute else []
    return " ".join(parts) or "-"


VERDICT_HEADINGS = {"drift": "drift", "version_mismatch": "version mismatch", "parity": "parity"}


def markdown(result) -> str:
    """The verdict as Markdown: a heading with the verdict, the summary line, one table of differences per
    check (kind, object, what differs, both sides' values, status), the servers' versions and what to run."""
    lines = [f"## pgparity: {VERDICT_HEADINGS[result.status]}", "", markdown_text(summary_line(result))]
    for scope in checks(result):
        findings = [f for f in result.findings if f.scope == scope]
        if not findings:
            continue
        sides = SIDES[scope]
        lines += ["", f"### {markdown_text(TITLES[scope])}", "",
                  markdown_row(("Kind", "Object", "What differs", *sides, "Status")), markdown_row(("---",) * 6)]
        lines += [markdown_row((markdown_text(f.difference.kind.replace("_", " ")), markdown_code(f.difference.object),
                                what_differs(f.difference), markdown_code(cell(f.difference, f.difference.source)),
                                markdown_code(cell(f.difference, f.difference.target)),
                                markdown_text(status_label(f.difference.status, sides) + marks(f))))
                  for f in findings]
    if result.pending_in_production:
        lines += ["", "### Pending in production (not drift: deployed after this push)", ""]
        lines += [f"- {markdown_code(shown(migration.path))}" for migration in result.pending_in_production]
    lines += markdown_hazards(result.hazards)
    if result.server is not None and result.server.status != "same":
        lines += ["", "### Server version", "", markdown_text(server_sentence(result.server))]
    found = hints(result)
    if found:
        lines += ["", "**How to fix:**", "", *(f"- {markdown_fix(hint)}" for hint in found)]
    return "\n".join(lines) + "\n"


def markdown_fix(hint: str) -> str:
    """A hint whose commands stay code spans: the prose between them escaped, the backquoted parts kept."""
    return "".join(markdown_code(part) if index % 2 else markdown_text(part)
                   for index, part in enumerate(hint.split("`")))


# JUnit XML: one test suite per check, one test case per difference (a failure when it is drift).

XML_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_text(value: str | None) -> str:
    """Text XML 1.0 can hold: characters it forbids (control characters in a comment) written as `\\xNN`."""
    return XML_UNSAFE.sub(lambda found: f"\\x{ord(found.group()):02x}", "-" if value is None else value)


@dataclass(frozen=True)
class Case:
    """One test case: a failure (message, text), or skipped (why), or neither (passed)."""

    classname: str
    name: str
    failure: tuple[str, str] | None = None
    skipped: str | None = None


def cases_of(result, scope: str) -> list[Case]:
    sides = SIDES[scope]
    cases = []
    for f in (f for f in result.findings if f.scope == scope):
        d = f.difference
        message = (f"{status_label(d.status, sides)}: {sides[0]} {diffing.one_line(d.source or '-')}, "
                   f"{sides[1]} {diffing.one_line(d.target or '-')}")
        text = f"{sides[0]}: {d.source or '-'}\n{sides[1]}: {d.target or '-'}\nfix: {FIX_HINTS[scope]}"
        why = ("ignored in pgparity.toml" if f.ignored
               else "printed differently by the two majors" if d.version_only else None)
        cases.append(Case(f"pgparity.{scope}.{d.object}", row_name(d), None if why else (message, text), why))
    if scope == "production":
        cases += [Case("pgparity.production.pending", shown(m.path), skipped="pending in production (not drift)")
                  for m in result.pending_in_production]
    return cases or [Case(f"pgparity.{scope}", "no differences")]


def server_case(check) -> Case:
    failure = (server_sentence(check), MAJOR_ADVICE[check.scope]) if check.status == "major_mismatch" else None
    return Case(f"pgparity.{check.scope}.server", "server version", failure)


def junit(result) -> str:
    """The verdict as JUnit XML: a suite per check (each scope, the servers' versions), counted as the common
    schema has it (tests, failures, errors, skipped, time); a case per difference, drift failing."""
    suites = [(CHECKS[scope], cases_of(result, scope)) for scope in checks(result)]
    if result.server is not None:
        suites.append(("server version", [server_case(result.server)]))
    root = ET.Element("testsuites", name="pgparity", **totals([case for _, cases in suites for case in cases]))
    for name, cases in suites:
        suite = ET.SubElement(root, "testsuite", name=name, **totals(cases))
        for case in cases:
            element = ET.SubElement(suite, "testcase", classname=xml_text(case.classname), name=xml_text(case.name),
                                    time="0")
            if case.failure is not None:
                ET.SubElement(element, "failure", message=xml_text(case.failure[0]), type="drift").text = \
                    xml_text(case.failure[1])
            if case.skipped is not None:
                ET.SubElement(element, "skipped", message=case.skipped)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def totals(cases: Sequence[Case]) -> dict[str, str]:
    return {"tests": str(len(cases)), "failures": str(sum(1 for c in cases if c.failure is not None)),
            "errors": "0", "skipped": str(sum(1 for c in cases if c.skipped is not None)), "time": "0"}


def write(text: str) -> None:
    sys.stdout.write(text)


# How db.verify and db.diff print a verdict, by --format: one entry per format.
VERDICT_FORMATS: dict[str, Callable[[Any], None]] = {
    "table": verdict,
    "json": lambda result: print_json(verdict_json(result)),
    "markdown": lambda result: write(markdown(result)),
    "junit": lambda result: write(junit(result)),
}
