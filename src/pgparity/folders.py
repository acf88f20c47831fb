"""What pgparity writes into a user's project: folders that ignore themselves in git, whatever the project's
own .gitignore says, so caches and production's data are never committed by accident; and files written
whole or not at all."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def own_folder(path: Path, what: str, private: bool = False) -> Path:
    """`path`, created if needed, holding a `.gitignore` of `*` that names what the folder is for; a `private`
    folder (production's data) is for its owner alone, whatever the umask."""
    path.mkdir(parents=True, exist_ok=True)
    if private:
        path.chmod(0o700)
    ignore = path / ".gitignore"
    if not ignore.exists():
        ignore.write_text(f"# {what}: never committed\n*\n", encoding="utf-8")
    return path


def write_whole(path: Path, text: str) -> None:
    """`path` holds `text` entirely, or what it held before: written beside it, then renamed over it, so a
    kill never leaves half a migration or half a pgparity.toml."""
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o666 & ~umask()  # as a plain write would leave it
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".partial")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def create_new(path: Path, text: str) -> None:
    """Create `path` holding `text`; never replaces a file (FileExistsError), even one created a moment ago."""
    with open(path, "x", encoding="utf-8") as out:
        out.write(text)


def umask() -> int:
    current = os.umask(0o022)
    os.umask(current)
    return current
