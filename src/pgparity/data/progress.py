"""What dump and restore report per table as they go (rows/s) and when done."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from pgparity.data.archive import TableEntry
from pgparity.data.extract import PROGRESS_SECONDS, PartResult


@dataclass(frozen=True)
class TableReport:
    entry: TableEntry
    seconds: float

    @property
    def rows_per_second(self) -> float:
        return self.entry.rows / self.seconds if self.seconds else 0.0


class Progress(Protocol):
    """What dump and restore report as they go, for the shell to draw rows/s per table.

    `advance` comes at most every PROGRESS_SECONDS per table, with the rows so far; calls come one at a time.
    """

    def start(self, tables: int) -> None: ...
    def advance(self, table: str, rows: int, seconds: float) -> None: ...
    def done(self, report: TableReport) -> None: ...


class Quiet:
    def start(self, tables: int) -> None: ...
    def advance(self, table: str, rows: int, seconds: float) -> None: ...
    def done(self, report: TableReport) -> None: ...


class Meter:
    """Counts one table's rows over its parts and reports them at most every PROGRESS_SECONDS."""

    def __init__(self, table: str, parts: int, progress: Progress):
        self.table = table
        self.progress = progress
        self.started = self.reported = time.monotonic()
        self.rows = [0] * parts

    def count(self, part: int, rows: int) -> None:
        """The rows one part has read or loaded so far."""
        self.rows[part] = rows
        now = time.monotonic()
        if now - self.reported >= PROGRESS_SECONDS:
            self.reported = now
            self.progress.advance(self.table, sum(self.rows), now - self.started)


class Tables:
    """Every table's meter, reached through the members of its parts; reports tables once all are done."""

    def __init__(self, tables: Sequence[tuple[str, Sequence[str]]], progress: Progress):
        progress.start(len(tables))
        self.meters: dict[str, tuple[Meter, int]] = {}
        for table, members in tables:
            meter = Meter(table, len(members), progress)
            self.meters.update((member, (meter, position)) for position, member in enumerate(members))
        self.progress = progress
        self.reports: list[TableReport] = []

    def count(self, member: str, rows: int) -> None:
        meter, position = self.meters[member]
        meter.count(position, rows)

    def report(self, entry: TableEntry, results: Sequence[PartResult]) -> None:
        """Rows/s over the time from the table's first part starting to its last one ending."""
        seconds = max(r.finished for r in results) - min(r.started for r in results) if results else 0.0
        self.reports.append(TableReport(entry, seconds))
        self.progress.done(self.reports[-1])
