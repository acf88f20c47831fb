"""A migration file's parts: what runs forward, what undoes it, and whether it runs outside a transaction.

Layouts that keep both directions in one file mark them with comment lines (dbmate's `-- migrate:up`,
goose's `-- +goose Up`), which discovery hands in as the file's notes, so a part is known without its text. A
part is a set of line ranges; the other part's lines are blanked, not cut, so every line keeps its number in
lint findings and in the server's errors.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from pgparity.migrations.content import END, Lines, Note
from pgparity.migrations.naming import File, numbered, unmatched

NUMBERED = re.compile(r"(\d+)_(.+)\.sql")  # the names of the layouts that mark their sections inside


@dataclass(frozen=True)
class Sections:
    up: Lines | None = None  # None: the whole file
    down: Lines | None = None  # None: the file holds no undo of its own
    no_transaction: bool = False
    one_by_one: bool = False  # outside a transaction, each statement is sent alone, as its tool runs them


def whole(file: File, notes: Sequence[Note]) -> Sections:
    return Sections()


def split(notes: Sequence[Note], marker: re.Pattern[str]) -> dict[str, tuple[Lines, str]]:
    """The lines of each part the `marker` lines open (its group `part`, lower-cased), from its marker line to
    the next one, with what its first marker line says after the part's name (group `options`)."""
    opened = [(line, found) for line, text in notes if (found := marker.fullmatch(text))]
    parts: dict[str, tuple[list[tuple[int, int]], str]] = {}
    for (line, found), after in zip(opened, [*(line for line, _ in opened[1:]), END]):
        ranges, options = parts.setdefault(found["part"].lower(), ([], found["options"] or ""))
        ranges.append((line, after))
    return {name: (tuple(ranges), options) for name, (ranges, options) in parts.items()}


def part_lines(parts: dict[str, tuple[Lines, str]], name: str) -> Lines | None:
    """The lines of the part `name` that `split` found; None if the file holds no such part."""
    return parts[name][0] if name in parts else None


def opens_up(marker: re.Pattern[str]) -> Callable[[Sequence[Note]], bool]:
    """Whether a file's notes hold a `marker` line that opens its up part: what makes it the layout's."""
    def marked(notes: Sequence[Note]) -> bool:
        return any((found := marker.fullmatch(text)) and found["part"].lower() == "up" for _, text in notes)
    return marked


def marked_layout(marked: Callable[[Sequence[Note]], bool]
                  ) -> tuple[Callable[[str, Sequence[Note]], bool], Callable[[Path, Sequence[Note]], File]]:
    """`claims` and `classify` of a layout whose migrations are `<version>_<name>.sql` files that hold its
    section markers (`marked`): a numbered file without them is not one of its migrations."""
    def claims(name: str, notes: Sequence[Note]) -> bool:
        return marked(notes) and bool(NUMBERED.fullmatch(name))

    def classify(path: Path, notes: Sequence[Note]) -> File:
        match = NUMBERED.fullmatch(path.name)
        return numbered(path, "forward", match[1], match[2]) if match and marked(notes) else unmatched(path)

    return claims, classify
