"""The git pre-push hook that runs `db.verify`, so drift is caught before it leaves the machine."""

from __future__ import annotations

import io
import shlex
import subprocess
import sys
import tarfile
from collections.abc import Callable
from pathlib import Path

from pgparity.errors import PgParityError
from pgparity.folders import write_whole

MARKER = "# pgparity pre-push hook"


def hooks_dir(root: Path) -> Path:
    """Where git looks for hooks here (honours worktrees and core.hooksPath)."""
    result = subprocess.run(["git", "rev-parse", "--git-path", "hooks"], cwd=root, capture_output=True, text=True)
    if result.returncode != 0:
        raise PgParityError(f"{root} is not inside a git repository; a pre-push hook needs one")
    return (root / result.stdout.strip()).resolve()


def script(python: str = sys.executable) -> str:
    """The hook: verifies the migrations of each pushed commit, with the first pgparity it finds at push time.

    The project's own .venv is looked for when the push runs, so a moved or recreated venv keeps working;
    then `pgparity` on PATH; then the interpreter that installed the hook.
    """
    return "\n".join([
        "#!/bin/sh",
        MARKER,
        "# Blocks a push when the pushed commit's migrations, the dev database and production drift apart.",
        "# Installed by `invoke db.hook --install`; removed by `invoke db.hook --uninstall`.",
        'root=$(git rev-parse --show-toplevel) || exit 1',
        'if [ -x "$root/.venv/bin/python" ] && "$root/.venv/bin/python" -c "import pgparity" 2>/dev/null; then',
        '    set -- "$root/.venv/bin/python" -m pgparity',
        "elif command -v pgparity >/dev/null 2>&1; then",
        "    set -- pgparity",
        "else",
        f"    set -- {shlex.quote(python)} -m pgparity",
        "fi",
        "status=0",
        "while read -r local_ref local_sha remote_ref remote_sha; do",
        '    case "$local_sha" in *[!0]*) ;; *) continue ;; esac  # a deleted branch: nothing to check',
        '    "$@" db.verify --revision "$local_sha" </dev/null || status=$?',
        "done",
        'if [ "$status" -eq 1 ]; then',
        f"    echo {shlex.quote(BLOCKED_BY_DRIFT)} >&2",
        'elif [ "$status" -ne 0 ]; then',
        f"    echo {shlex.quote(BLOCKED_BY_ERROR)} >&2",
        "fi",
        'exit "$status"',
        "",
    ])


BLOCKED_BY_DRIFT = ("pgparity: push blocked by drift: run `invoke db.fix` (production) or `invoke db.sync` "
                    "(local), or skip the check with `git push --no-verify`")
BLOCKED_BY_ERROR = "pgparity: push blocked: db.verify failed (see above); skip the check with `git push --no-verify`"


def in_repository(root: Path, path: Path) -> Path:
    """`path` relative to the top of the repository holding `root`, as git names it."""
    return path.resolve().relative_to(Path(git(root, "rev-parse", "--show-toplevel")).resolve())


def file_at(root: Path, revision: str, path: Path) -> str | None:
    """The text of `path` in commit `revision`; None when the commit has no such file."""
    shown = subprocess.run(["git", "show", f"{revision}:{in_repository(root, path).as_posix()}"], cwd=root,
                           capture_output=True)
    return shown.stdout.decode("utf-8", errors="replace") if shown.returncode == 0 else None


def earlier(root: Path, path: Path, wanted: Callable[[str], bool], depth: int = 200) -> str | None:
    """The newest text `path` had in the last `depth` commits that changed it that `wanted` accepts; None
    outside a repository, or when no commit holds such a text."""
    log = subprocess.run(["git", "log", f"-{depth}", "--format=%H", "--", str(path.resolve())], cwd=root,
                         capture_output=True, text=True)
    if log.returncode != 0:
        return None
    for revision in log.stdout.split():
        text = file_at(root, revision, path)
        if text is not None and wanted(text):
            return text
    return None


def export(root: Path, revision: str, folder: Path, into: Path) -> Path:
    """`folder` (inside the repository at `root`) as it is in commit `revision`, written below `into`."""
    relative = in_repository(root, folder)
    archive = subprocess.run(["git", "archive", "--format=tar", revision, "--", str(relative)], cwd=root,
                             capture_output=True)
    if archive.returncode != 0:
        message = archive.stderr.decode(errors="replace").strip().splitlines()
        raise PgParityError(f"{relative}/ at {revision[:12]}: {message[-1] if message else 'git archive failed'}")
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(into, filter="data")
    return into / relative


def git(root: Path, *args: str) -> str:
    result = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True)
    if result.returncode != 0:
        raise PgParityError(f"{root} is not inside a git repository ({result.stderr.strip()})")
    return result.stdout.strip()


def ours(path: Path) -> bool:
    return path.is_file() and MARKER in path.read_text(errors="replace")


def install(root: Path, force: bool = False) -> Path:
    """Write the hook; a hook pgparity did not write is kept unless `force`."""
    path = hooks_dir(root) / "pre-push"
    if path.exists() and not ours(path) and not force:
        raise PgParityError(f"{path} exists and was not written by pgparity; pass --force to replace it")
    path.parent.mkdir(parents=True, exist_ok=True)
    write_whole(path, script())
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
