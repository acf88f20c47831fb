"""Sqitch's layout: `sqitch.plan` names the changes in deploy order; each has `deploy/<change>.sql`,
`revert/<change>.sql` and `verify/<change>.sql`. A change reworked after a tag keeps its earlier script as
`deploy/<change>@<tag>.sql`. Scripts hold their own BEGIN and COMMIT. Sqitch records the SHA-1 of each
deploy script in `sqitch.changes`.

A change's version is its place in the plan, which only ever grows at the end.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
from collections.abc import Iterable, Sequence
from datetime import datetime, timezone
from pathlib import Path

from pgparity.errors import MigrationError, shown
from pgparity.migrations.content import Note
from pgparity.migrations.formats import Format, Output, Written
from pgparity.migrations.lint import NO_TRANSACTION, header_options
from pgparity.migrations.model import Version
from pgparity.migrations.naming import File, unmatched

PLAN = "sqitch.plan"
KEPT = frozenset({PLAN, "sqitch.conf", "deploy", "revert", "verify"})


def claims(name: str, notes: Sequence[Note]) -> bool:
    return name == PLAN


def classify(path: Path, notes: Sequence[Note]) -> File:
    return unmatched(path, path.is_dir())


def steps(plan: Path) -> list[tuple[str, str | None]]:
    """The plan's changes in order, each with the tag that names its script when it was reworked later."""
    changes: list[str] = []
    tags: list[tuple[int, str]] = []  # (changes before the tag, tag)
    try:
        text = plan.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise MigrationError(f"{shown(plan)}: cannot read the plan ({error})") from None
    for line in text.splitlines():
        words = line.split("#", 1)[0].split()
        if not words or words[0].startswith("%"):
            continue
        if words[0].startswith("@"):
            tags.append((len(changes), words[0][1:]))
        else:
            changes.append(words[0].lstrip("+-"))
    named = []
    for index, change in enumerate(changes):
        later = next((i for i in range(index + 1, len(changes)) if changes[i] == change), None)
        between = [tag for at, tag in tags if index < at <= later] if later is not None else []
        named.append((change, next((t for t in between if (plan.parent / "deploy" / f"{change}@{t}.sql").is_file()),
                                   between[-1] if between else None)))
    return named


def listing(directory: Path) -> list[File]:
    """The plan's deploy scripts with their reverts, then every other entry as a file not replayed."""
    files: list[File] = []
    listed: set[Path] = set()
    for index, (change, tag) in enumerate(steps(directory / PLAN), 1):
        script = f"{change}@{tag}.sql" if tag else f"{change}.sql"
        deploy, revert, check = (directory / part / script for part in ("deploy", "revert", "verify"))
        files.append(File(deploy, deploy.name, "forward", Version.of(index), change, number=str(index),
                          check=check if check.is_file() else None))
        listed.add(deploy)
        if revert.is_file():
            files.append(File(revert, revert.name, "rollback", Version.of(index), change, number=str(index)))
    scripts = directory / "deploy"
    if scripts.is_dir():
        files += [unmatched(path) for path in sorted(scripts.iterdir()) if path not in listed and path.suffix == ".sql"]
    return files


def checksum(chunks: Iterable[str]) -> str:
    digest = hashlib.sha1()
    for chunk in chunks:
        digest.update(chunk.encode("utf-8"))
    return digest.hexdigest()


def planner() -> str:
    """Who plans a new change, as git knows them (as Sqitch itself asks)."""
    def ask(key: str, variable: str) -> str:
        if os.environ.get(variable):
            return os.environ[variable]
        try:
            found = subprocess.run(["git", "config", key], capture_output=True, text=True, timeout=5)
        except (OSError, subprocess.SubprocessError):
            return ""
        return found.stdout.strip()
    return f"{ask('user.name', 'SQITCH_FULLNAME') or 'pgparity'} <{ask('user.email', 'SQITCH_EMAIL') or 'pgparity@localhost'}>"


def new(directory: Path, files: Sequence[File], description: str, up: str, down: str | None) -> Written:
    if any(f.description == description for f in files if f.kind == "forward"):
        raise MigrationError(f"{shown(directory / PLAN)}: change {description} is planned already; choose another name")
    plan = directory / PLAN
    # A project's first change starts its plan (db.convert's copy does).
    start = f"%syntax-version=1.0.0\n%project={directory.name}\n\n"
    text = plan.read_text(encoding="utf-8") if plan.is_file() else start
    when = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    line = f"{description} {when} {planner()} # {description.replace('_', ' ')}\n"
    return [Output(directory / "revert" / f"{description}.sql", transaction(down or "")),
            Output(directory / "verify" / f"{description}.sql", "BEGIN;\nROLLBACK;\n"),
            Output(directory / "deploy" / f"{description}.sql", transaction(up)),
            Output(plan, text + ("" if text.endswith("\n") or not text else "\n") + line, replaces=True)]


def transaction(text: str) -> str:
    """The script in BEGIN and COMMIT, as Sqitch's scripts hold them, after its opening comment lines (where
    pgparity's options are read); a script that must run outside a transaction as it is."""
    if NO_TRANSACTION in header_options(text):
        return text
    lines = text.split("\n")
    head = next((i for i, line in enumerate(lines) if line.strip() and not line.lstrip().startswith("--")), len(lines))
    opening = "".join(f"{line}\n" for line in lines[:head] if line.strip())
    body = "".join(f"{line}\n" for line in "\n".join(lines[head:]).rstrip("\n").split("\n") if head < len(lines))
    return f"{opening}BEGIN;\n{body}COMMIT;\n"


def undo(path: Path) -> str:
    return f"expected revert/{path.name} in the project"


FORMAT = Format("sqitch", "sqitch", "changes named in sqitch.plan, with deploy/, revert/ and verify/ scripts",
                claims, classify, new, undo, checksum=checksum, listing=listing, own_transactions=True,
                own=KEPT)
