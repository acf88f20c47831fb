"""Masking json and jsonb values by path: each listed path gets its own transformer, the rest is scrubbed
or kept.

    "public.users.profile" = { json = { "$.email" = "email", "$.phones[*]" = "phone" }, rest = "scrub" }

Paths are the common subset of JSONPath: `$`, then `.key`, `["key"]`, `[N]` and `[*]` steps.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Sequence

Step = str | int | None  # a key, an index, or None for every element
Steps = tuple[Step, ...]
STEP = re.compile(r'\.([A-Za-z_][\w$]*)|\["((?:[^"\\]|\\.)*)"\]|\[(\d+)\]|\[(\*)\]')
Leaf = Callable[[str], str | None]


def parse_path(text: str) -> Steps:
    """`$.a[*].b` as ("a", None, "b"); ValueError names what is wrong."""
    if not text.startswith("$"):
        raise ValueError(f"json path {text!r} must start with $")
    steps: list[Step] = []
    position = 1
    while position < len(text):
        found = STEP.match(text, position)
        if not found:
            raise ValueError(f"json path {text!r}: cannot read {text[position:]!r} (use .key, [\"key\"], [N] or [*])")
        key, quoted, index, every = found.groups()
        steps.append(key if key is not None else json.loads(f'"{quoted}"') if quoted is not None
                     else int(index) if index is not None else None)
        position = found.end()
    if not steps:
        raise ValueError(f"json path {text!r} names the whole document; use a column rule instead")
    return tuple(steps)


def places(node: object, steps: Steps) -> Iterator[tuple[object, str | int]]:
    """The (container, key) pairs a path reaches in a parsed document."""
    head, rest = steps[0], steps[1:]
    if isinstance(node, dict) and isinstance(head, str) and head in node:
        keys: Sequence[str | int] = (head,)
    elif isinstance(node, list) and head is None:
        keys = range(len(node))
    elif isinstance(node, list) and isinstance(head, int) and head < len(node):
        keys = (head,)
    elif isinstance(node, dict) and head is None:
        keys = tuple(node)
    else:
        return
    for key in keys:
        if rest:
            yield from places(node[key], rest)
        else:
            yield node, key


def scrub_in_place(node: object, leaf: Leaf, done: set[tuple[int, str | int]]) -> object:
    """`leaf` applied to every string value but those at `done` (container id, key); keys stay as they are."""
    if isinstance(node, str):
        return leaf(node)
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, value in list(items):
        if (id(node), key) not in done:
            node[key] = scrub_in_place(value, leaf, done)
    return node


def mask(text: str, paths: Sequence[tuple[Steps, Leaf]], rest: Leaf | None) -> str:
    """`text` (a json document) with each path's values masked by its own leaf function, and every other
    string by `rest` (None keeps them). A number at a path is masked as its text and becomes a string."""
    document = json.loads(text)
    done: set[tuple[int, str | int]] = set()
    for steps, leaf in paths:
        for container, key in list(places(document, steps)):
            value = container[key]
            if value is None or isinstance(value, (dict, list)) or (id(container), key) in done:
                continue
            container[key] = leaf(value if isinstance(value, str) else json.dumps(value))
            done.add((id(container), key))
    if rest is not None:
        document = scrub_in_place(document, rest, done)
    return json.dumps(document, ensure_ascii=False)
