"""PostgreSQL array literals (`{a,"b c",NULL}`, nested ones too), so a rule masks an array element by element."""

from __future__ import annotations

from collections.abc import Callable

Element = Callable[[str], str | None]
SPECIAL = set('{},"\\ \t\n\r\v\f')


def mask(text: str, element: Element) -> str:
    """The array `text` with `element` applied to each non-NULL element, quoted as PostgreSQL would read it."""
    value, end = parse(text, text.index("{"))
    return text[: text.index("{")] + render(value, element) + text[end:]


def parse(text: str, at: int) -> tuple[list, int]:
    """The elements of the array starting at `text[at] == "{"` (None for NULL, lists for inner arrays)."""
    items: list = []
    at += 1
    while text[at] != "}":
        if text[at] == "{":
            item, at = parse(text, at)
        elif text[at] == '"':
            chars, at = [], at + 1
            while text[at] != '"':
                if text[at] == "\\":
                    at += 1
                chars.append(text[at])
                at += 1
            item, at = "".join(chars), at + 1
        else:
            start = at
            while text[at] not in ",}":
                at += 1
            raw = text[start:at].strip()
            item = None if raw.upper() == "NULL" else raw
        items.append(item)
        if text[at] == ",":
            at += 1
    return items, at + 1


def render(items: list, element: Element) -> str:
    parts = []
    for item in items:
        if isinstance(item, list):
            parts.append(render(item, element))
            continue
        masked = None if item is None else element(item)
        parts.append("NULL" if masked is None else quoted(masked))
    return "{" + ",".join(parts) + "}"


def quoted(value: str) -> str:
    if value and value.upper() != "NULL" and not SPECIAL.intersection(value):
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
