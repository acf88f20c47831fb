"""A migration file's parts: what runs forward, what undoes it, and whether it runs outside a transaction.

Layouts that keep both directions in one file mark them with comment lines (dbmate's `-- migrate:up`,
goose's `-- +goose Up`). The other part's lines are blanked, not cut, so every line keeps its number in
lint findings and in the server's errors.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pgparity.migrations.lexer import statements
from pgparity.migrations.naming import File, numbered, unmatched

NUMBERED = re.compile(r"(\d+)_(.+)\.sql")  # the names of the layouts that mark their sections inside


@dataclass(frozen=True)
class Sections:
    up: str
    down: str | None = None  # None: the file holds no undo of its own
    no_transaction: bool = False
    one_by_one: bool = False  # outside a transaction, each statement is sent alone, as its tool runs them


def whole(file: File, text: str) -> Sections:
    return Sections(text)


def split(text: str, marker: re.Pattern[str]) -> dict[str, tuple[str, str]]:
    """Each part the `marker` lines open (its group `part`, lower-cased) as the file's text with every other
    line blanked, with what the marker line says after the part's name (group `options`)."""
    lines = text.split("\n")
    owner: list[str | None] = []
    options: dict[str, str] = {}
    current: str | None = None
    for line in lines:
        if found := marker.fullmatch(line.strip()):
            current = found["part"].lower()
            options.setdefault(current, found["options"] or "")
        owner.append(current)
    return {part: ("\n".join(line if who == part else "" for line, who in zip(lines, owner)), options[part])
            for part in options}


def down_part(parts: dict[str, tuple[str, str]]) -> str | None:
    """The down part, when it holds a statement: an empty one undoes nothing, so the file has no rollback."""
    text = parts.get("down", (None, ""))[0]
    return text if text is not None and statements(text) else None


def marked_layout(marked: Callable[[str], bool]) -> tuple[Callable[[str, str], bool], Callable[[Path, str], File]]:
    """`claims` and `classify` of a layout whose migrations are `<version>_<name>.sql` files that hold its
    section markers (`marked`): a numbered file without them is not one of its migrations."""
    def claims(name: str, text: str) -> bool:
        return marked(text) and bool(NUMBERED.fullmatch(name))

    def classify(path: Path, text: str) -> File:
        match = NUMBERED.fullmatch(path.name)
        return numbered(path, "forward", match[1], match[2]) if match and marked(text) else unmatched(path)

    return claims, classify
