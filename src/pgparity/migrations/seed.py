"""Seed data: a file, or a folder of files, of SQL run on the dev database after its schema is built.

Seeds are rows for development, not schema: they never enter the template cache's key, and are applied to
the database being swapped in (a clone of the template, or the replay's twin), never to the template, so
editing a seed never costs a replay. Each file runs whole in its own transaction.
"""

from __future__ import annotations

from pathlib import Path

from pgparity.database import connect
from pgparity.errors import MigrationError, shown
from pgparity.migrations import apply

SETTING = "[seed] path in pgparity.toml"


def files(path: Path) -> list[Path]:
    """The seed's files: the file named, or the folder's `.sql` files in name order."""
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise MigrationError(f"{shown(path)}: seed not found ({SETTING} names it)")
    found = sorted(child for child in path.iterdir() if child.suffix == ".sql" and child.is_file())
    if not found:
        raise MigrationError(f"{shown(path)}/: no .sql files to seed with ({SETTING} names it)")
    return found


def run(url: str, seeds: list[Path]) -> None:
    """Run each seed file on the database at `url`, in order; a failure names the file and line."""
    with connect(url, autocommit=True) as conn:
        for path in seeds:
            try:
                text = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as error:
                raise MigrationError(f"{shown(path)}: cannot read the seed ({error})") from None
            apply.run_file(conn, path, text)
