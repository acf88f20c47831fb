"""The git pre-push hook that runs `db.verify`, so drift is caught before it leaves the machine."""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path

from .errors import PgParityError

MARKER = "# pgparity pre-push hook"


def hooks_dir(root: Path) -> Path:
    """Where git looks for hooks here (honours worktrees and core.hooksPath)."""
    result = subprocess.run(["git", "rev-parse", "--git-path", "hooks"], cwd=root, capture_output=True, text=True)
    if result.returncode != 0:
        raise PgParityError(f"{root} is not inside a git repository; a pre-push hook needs one")
    return (root / result.stdout.strip()).resolve()


def script(python: str = sys.executable) -> str:
    return "\n".join([
        "#!/bin/sh",
        MARKER,
        "# Blocks a push when the dev database, the migrations and production drift apart.",
        "# Installed by `invoke db.hook --install`; removed by `invoke db.hook --uninstall`.",
        f"exec {shlex.quote(python)} -m pgparity db.verify",
        "",
    ])


def ours(path: Path) -> bool:
    return path.is_file() and MARKER in path.read_text(errors="replace")


def install(root: Path, force: bool = False) -> Path:
    """Write the hook; a hook pgparity did not write is kept unless `force`."""
    path = hooks_dir(root) / "pre-push"
    if path.exists() and not ours(path) and not force:
        raise PgParityError(f"{path} exists and was not written by pgparity; pass --force to replace it")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(script())
    path.chmod(0o755)
    return path


def uninstall(root: Path) -> Path | None:
    """Remove the hook if pgparity wrote it; never touch another one."""
    path = hooks_dir(root) / "pre-push"
    if not path.exists():
        return None
    if not ours(path):
        raise PgParityError(f"{path} was not written by pgparity; not removing it")
    path.unlink()
    return path
