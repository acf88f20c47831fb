"""Folders pgparity writes into a user's project: each ignores itself in git, whatever the project's own
.gitignore says, so caches and production's data are never committed by accident."""

from __future__ import annotations

from pathlib import Path


def own_folder(path: Path, what: str) -> Path:
    """`path`, created if needed, holding a `.gitignore` of `*` that names what the folder is for."""
    path.mkdir(parents=True, exist_ok=True)
    ignore = path / ".gitignore"
    if not ignore.exists():
        ignore.write_text(f"# {what}: never committed\n*\n", encoding="utf-8")
    return path
