"""Lint results remembered by file content, so an unchanged tree is not tokenised on every sync.

Lint reads every migration on every sync, migrate and verify; tokenising 3,000 files takes longer than
a warm sync's whole budget. A file's lint depends only on its bytes and on the lint rules, so results
are kept by the file's sha256 under a digest of the rules' own source: editing the rules, or upgrading
pgparity, starts a new cache. The cache lives in a folder of the project that ignores itself in git.
"""

from __future__ import annotations

import hashlib
import json
from functools import cache, cached_property
from pathlib import Path

from pgparity.folders import own_folder, write_whole
from pgparity.migrations import lexer, lint
from pgparity.migrations.model import Linted

FILE_NAME = "lint.json"


@cache
def rules_digest() -> str:
    """The lint rules' identity: a digest of the modules whose code decides a file's lint, the rules and
    the lexer they read statements with."""
    digest = hashlib.sha256()
    for module in (lint, lexer):
        digest.update(Path(module.__file__).read_bytes())
    return digest.hexdigest()


class LintCache:
    """Lint results by content checksum, loaded from and saved to `folder`."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.used: dict[str, Linted] = {}

    @cached_property
    def stored(self) -> dict[str, Linted]:
        """The stored results, read at the first lookup; none when the file is absent, unreadable or written for
        other rules."""
        try:
            data = json.loads((self.folder / FILE_NAME).read_text(encoding="utf-8"))
            if data["rules"] != rules_digest():
                return {}
            return {checksum: Linted(bool(no_tx), bool(controls), tuple((level, line, message)
                                                                         for level, line, message in findings),
                                     bool(in_production))
                    for checksum, (no_tx, controls, findings, in_production) in data["files"].items()}
        except (OSError, ValueError, KeyError, TypeError):
            return {}

    def get(self, checksum: str) -> Linted | None:
        found = self.stored.get(checksum)
        if found is not None:
            self.used[checksum] = found
        return found

    def put(self, checksum: str, linted: Linted) -> None:
        self.used[checksum] = linted

    def save(self) -> None:
        """Keep exactly the results this run used, when they differ from what is stored.

        Written to a temporary file and renamed over the old one, so two runs at once never leave half a file.
        """
        if self.used == self.stored:
            return
        own_folder(self.folder, "pgparity's cache")
        files = {checksum: [linted.no_transaction, linted.controls_transaction, [list(f) for f in linted.findings],
                            linted.in_production]
                 for checksum, linted in sorted(self.used.items())}
        write_whole(self.folder / FILE_NAME, json.dumps({"rules": rules_digest(), "files": files}))
