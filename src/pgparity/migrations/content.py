"""A migration file's content, read in chunks of whole lines so that no large file is ever held whole by lint.

Discovery reads each file once: its checksums, whether it is UTF-8, and the lines its layout marks its parts
with (`Note`s). A file that fits in one chunk keeps its text, so most files are read once and never again; a
larger one is read again when its text is wanted, in chunks for lint and whole for replay, and each reading is
checked against the checksum taken first, so what runs is what was linted and recorded.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from pgparity.errors import MigrationError, shown

CHUNK = 1 << 16  # bytes read at a time; a chunk ends after a line, so it is longer where a line is
# A comment to the end of its line: layouts put their marks (goose's `-- +goose Up`) in one that opens a line. The
# search starts with the literal `--`, which the regular expression engine finds fast.
_COMMENT = re.compile(r"--[^\n]*")

Note = tuple[int, str]  # a marked line's number and its text, stripped
Lines = tuple[tuple[int, int], ...]  # a part of a file: ranges [first, end) of line numbers, from 1
END = 1 << 62  # past the last line of any file


@dataclass(frozen=True)
class Content:
    """What one reading of a file found; the text itself only when the file is one chunk (`held`)."""

    path: Path
    size: int  # bytes
    # The sha256 of the bytes as they are, which ledger rows recorded before endings were normalized, and the one
    # a ledger row keeps now: line endings read as LF, CRLF -> LF being no edit. Equal for a file saved with LF.
    raw: str
    checksum: str
    notes: tuple[Note, ...]  # the lines that any of the layouts' `marks` match
    held: str | None = None
    invalid: tuple[int, int] | None = None  # byte and line of the first byte that is not UTF-8

    @classmethod
    def of(cls, text: str, path: Path = Path(), marks: Sequence[re.Pattern[str]] = ()) -> Content:
        """The content of a text already in memory (a file as an earlier commit held it)."""
        data = text.encode("utf-8")
        raw, checksum = _Digests().update(data).hexdigests()
        return cls(path, len(data), raw, checksum, tuple(_notes(text, 1, marks)), text)

    def chunks(self) -> Iterator[str]:
        """The text in chunks of whole lines: held, or read again and checked to be what was read first. A file
        that is not UTF-8 is never run; its chunks are decoded with replacement characters, to be looked at."""
        if self.held is not None:
            yield self.held
            return
        digests = _Digests()
        for block in _blocks(self.path):
            digests.update(block)
            try:
                yield block.decode("utf-8", errors="replace" if self.invalid else "strict")
            except UnicodeDecodeError:
                break  # edited since: reported below
        if digests.hexdigests()[0] != self.raw:
            raise MigrationError(f"{shown(self.path)}: changed while it was being read; run the command again")

    def kept(self) -> Content:
        """The same content with its text held: for a file about to go away (a tree read from a commit)."""
        return self if self.held is not None else replace(self, held=self.text())

    def text(self) -> str:
        """The whole text, for what needs it at once: a replay sends a file in one message."""
        return self.held if self.held is not None else "".join(self.chunks())


def read(path: Path, marks: Sequence[re.Pattern[str]]) -> Content:
    """Read `path` once, in chunks: its checksums, whether it is UTF-8, its lines that `marks` match (each
    pattern matched whole against a stripped line), and its text if it is a single chunk."""
    digests, notes, size, line = _Digests(), [], 0, 1
    invalid: tuple[int, int] | None = None
    held: str | None = ""  # an empty file's text
    for block in _blocks(path):
        digests.update(block)
        try:
            text = block.decode("utf-8")
        except UnicodeDecodeError as error:
            invalid = invalid or (size + error.start, line + block.count(b"\n", 0, error.start))
            text = block.decode("utf-8", errors="replace")
        notes += _notes(text, line, marks)
        held = text if not size else None  # kept while the file is one chunk
        size += len(block)
        line += block.count(b"\n")
    raw, checksum = digests.hexdigests()
    return Content(path, size, raw, checksum, tuple(notes), held, invalid)


def checksums(chunks: Iterable[str]) -> tuple[str, str]:
    """`checksum` and `raw` of the text the `chunks` make up, as `read` takes them of a file's bytes."""
    digests = _Digests()
    for chunk in chunks:
        digests.update(chunk.encode("utf-8"))
    raw, checksum = digests.hexdigests()
    return checksum, raw


class _Digests:
    """The sha256 of the bytes and of the bytes with LF endings, taken together: the second is a copy of the
    first until a CR is seen (most files have none), from where it hashes the normalized bytes."""

    def __init__(self) -> None:
        self.raw = hashlib.sha256()
        self.normalized: hashlib._Hash | None = None

    def update(self, data: bytes) -> _Digests:
        if self.normalized is None and b"\r" in data:
            self.normalized = self.raw.copy()
        if self.normalized is not None:  # a chunk ends after a line, so it never parts a CRLF
            self.normalized.update(data.replace(b"\r\n", b"\n").replace(b"\r", b"\n"))
        self.raw.update(data)
        return self

    def hexdigests(self) -> tuple[str, str]:
        raw = self.raw.hexdigest()
        return raw, raw if self.normalized is None else self.normalized.hexdigest()


def _blocks(path: Path) -> Iterator[bytes]:
    """The file's bytes in chunks of about CHUNK that end after a line feed (the last one where the file ends)."""
    try:
        with open(path, "rb", buffering=0) as file:  # unbuffered: each read is one whole chunk already
            rest = b""
            while block := file.read(CHUNK):
                block = rest + block if rest else block
                end = block.rfind(b"\n") + 1
                if end:
                    yield block[:end] if end < len(block) else block
                rest = block[end:]
            if rest:
                yield rest
    except OSError as exc:
        raise MigrationError(f"{shown(path)}: cannot read: {exc.strerror}") from None


def _notes(text: str, line: int, marks: Sequence[re.Pattern[str]]) -> list[Note]:
    """The lines of `text` (its first being line `line`) that open with a comment any of `marks` matches whole."""
    if not marks:
        return []
    found, position = [], 0
    for comment in _COMMENT.finditer(text):
        start = comment.start()
        opening = text.rfind("\n", 0, start) + 1
        if opening < start and not text[opening:start].isspace():
            continue  # after code on its line
        line += text.count("\n", position, start)
        position = start
        stripped = comment.group().strip()
        if any(mark.fullmatch(stripped) for mark in marks):
            found.append((line, stripped))
    return found


def part(chunks: Iterable[str], lines: Lines | None) -> Iterator[str]:
    """The chunks with every line outside the ranges `lines` ([first, end), numbered from 1) blanked, so each
    line keeps its number; all of them as they are when `lines` is None (the whole file)."""
    if lines is None:
        yield from chunks
        return
    line = 1
    for chunk in chunks:
        texts = chunk.split("\n")
        kept = [text if _within(lines, line + index) else "" for index, text in enumerate(texts)]
        line += len(texts) - 1
        yield "\n".join(kept)


def _within(lines: Lines, number: int) -> bool:
    return any(first <= number < end for first, end in lines)
