"""PostgreSQL's release numbers, read from `server_version_num`: what a command knows a server by."""

from __future__ import annotations


def major(version_num: int) -> int:
    """The major of a `server_version_num`: 150020 is 15."""
    return version_num // 10000


def release(version_num: int) -> str:
    """`server_version_num` as major.minor (every release from 10 on numbers itself so)."""
    return f"{major(version_num)}.{version_num % 10000}"
