"""Rendering for people (rich tables) and for CI (JSON); nothing here decides anything."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Sequence
from dataclasses import asdict, is_dataclass
from typing import Any

from rich.console import Console
from rich.table import Table

PIPE_WIDTH = 160  # tables written to a file or CI log are not squeezed to 80 columns

out = Console(highlight=False, soft_wrap=True, width=None if sys.stdout.isatty() else PIPE_WIDTH)
err = Console(stderr=True, highlight=False, soft_wrap=True, width=None if sys.stderr.isatty() else PIPE_WIDTH)


def say(message: str) -> None:
    out.print(message, markup=False)


def warn(message: str) -> None:
    err.print(f"pgparity: warning: {message}", markup=False, style="yellow")


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


def findings(items) -> None:
    """Lint findings, one per line on stderr (errors are also raised by the caller)."""
    for finding in items:
        style = {"error": "red", "warning": "yellow"}.get(finding.level)
        err.print(str(finding), markup=False, style=style)
