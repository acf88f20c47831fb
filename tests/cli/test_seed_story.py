"""examples/seed-drift end to end, through the published invoke tasks, from a copy of the folder."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from conftest import ROOT

EXAMPLE = ROOT / "examples" / "seed-drift"
SEED_ROWS = [
    ("public.auth_tokens", "token", "character varying", "character varying(255)", "Different"),
    ("public.auth_tokens", "token_type", "character varying", "character varying(50)", "Different"),
    ("public.roles", "description", "character varying", "text", "Different"),
    ("public.roles", "name", "character varying", "character varying(100)", "Different"),
    ("public.users", "email", "character varying", "character varying(255)", "Different"),
    ("public.users", "first_name", "-", "character varying(100)", "Missing in local"),
    ("public.users", "is_admin", "-", "boolean", "Missing in local"),
    ("public.users", "last_name", "-", "character varying(100)", "Missing in local"),
    ("public.users", "password_hash", "character varying", "character varying(255)", "Different"),
]


def invoke(folder: Path, env: dict[str, str], *tasks: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "invoke", *tasks], cwd=folder, env=env,
                          capture_output=True, text=True, timeout=300)


def report_rows(text: str) -> list[tuple[str, ...]]:
    """The (table, column, local, production, status) rows of the drift tables, drawn in ASCII (not a terminal)."""
    rows, table = [], None
    for line in text.splitlines():
        if line.startswith("public."):
            table = line.strip()
        elif line.startswith("| ") and table:
            cells = tuple(cell.strip() for cell in line.strip().strip("|").split("|"))
            if cells[0] != "Column":  # the header
                rows.append((table, *cells))
    return sorted(rows)


def test_seed_story_from_drift_to_parity(project):
    folder = project.root / "seed-drift"
    shutil.copytree(EXAMPLE, folder)
    first = invoke(folder, project.env, "db.up", "db.sync", "db.verify")
    assert first.returncode == 1, first.stderr
    assert report_rows(first.stdout) == SEED_ROWS
    assert "drift: 9 differences (production 9)" in first.stdout

    fixed = invoke(folder, project.env, "db.fix")
    assert fixed.returncode == 0, fixed.stderr
    forward = folder / "migrations" / "002_fix_production_drift.sql"
    assert "wrote migrations/002_fix_production_drift.sql (9 changes)" in fixed.stdout
    assert (folder / "migrations" / "002_fix_production_drift.down.sql").is_file()
    assert 'ALTER COLUMN "email" TYPE character varying(255)' in forward.read_text()
    assert "applied 1 migration to app" in fixed.stdout

    green = invoke(folder, project.env, "db.verify")
    assert green.returncode == 0, green.stdout + green.stderr
    assert "parity: no differences" in green.stdout

    rebuilt = invoke(folder, project.env, "db.sync", "db.verify")
    assert rebuilt.returncode == 0 and "parity: no differences" in rebuilt.stdout
