"""examples/seed-drift end to end, through the published invoke tasks, from a copy of the folder."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from conftest import ROOT, remove_project

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


def test_seed_story_from_drift_to_parity(project, docker_client):
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

    hazards = invoke(folder, project.env, "db.lint", "--hazards")
    assert hazards.returncode == 0, hazards.stderr
    rewrites = hazard_rows(hazards.stdout)
    assert [row[1:3] for row in rewrites] == [("high", "rewrite")] * 4 + [("low", "rewrite")]
    assert any("public.users (email character varying → character varying(255)): 250k rows" in row[4]
               for row in rewrites)
    assert "(in production already: measured where its changes are missing)" in hazards.stdout
    assert "Deploy hazards" in forward.read_text() and "SET lock_timeout = '5s';" in forward.read_text()
    other = f"{project.name}-none"
    elsewhere = invoke(folder, {**project.env, "PGPARITY_PROJECT": other}, "db.lint", "--hazards")
    made = docker_client.containers.list(all=True, filters={"name": other})
    remove_project(docker_client, other)
    assert not made  # the hazards need no dev server
    assert elsewhere.returncode == 0 and "no dev environment: migrations/002_fix_production_drift.sql" in \
        elsewhere.stderr, elsewhere.stderr
    assert "hazards: 0 files pending in production, 0 hazards" in elsewhere.stdout
    # Production has the fix's changes: its hazards are told, not failed on.
    assert invoke(folder, project.env, "db.lint", "--hazards", "--fail-on", "high").returncode == 0

    pending = folder / "migrations" / "003_shorter_names.sql"
    pending.write_text("ALTER TABLE users ALTER COLUMN first_name TYPE varchar(50);\n")
    refused = invoke(folder, project.env, "db.lint", "--hazards", "--fail-on", "high")
    assert refused.returncode == 2
    assert refused.stderr.strip().splitlines()[-1].startswith(
        "pgparity: 1 hazard at or above high: migrations/003_shorter_names.sql:1: high rewrite: rewrites public.users "
        "(first_name character varying(100) → character varying(50)): 250k rows")
    assert invoke(folder, project.env, "db.sync").returncode == 0
    report = invoke(folder, project.env, "db.verify", "--format", "json")
    assert report.returncode == 0, report.stderr
    [reviewed] = json.loads(report.stdout)["hazards"]
    assert reviewed["file"] == "migrations/003_shorter_names.sql"
    assert [(h["code"], h["severity"], h["rows"]) for h in reviewed["hazards"]] == [
        ("rewrite", "high", 250000), ("timeout", "medium", None)]

    pending.write_text("-- pgparity: allow rewrite\nSET lock_timeout = '2s';\n"
                       "ALTER TABLE users ALTER COLUMN first_name TYPE varchar(50);\n")
    accepted = invoke(folder, project.env, "db.lint", "--hazards", "--fail-on", "high")
    assert accepted.returncode == 0, accepted.stderr
    assert ("3", "high (allowed)", "rewrite") in [row[:3] for row in hazard_rows(accepted.stdout)]
    assert ("hazards: 1 file pending in production, 0 hazards (0 high, 0 medium, 0 low), 1 allowed; 1 in-production "
            "fix, measured where its changes are missing: 5 hazards (4 high, 0 medium, 1 low)") in accepted.stdout


def hazard_rows(text: str) -> list[tuple[str, ...]]:
    """The (line, severity, code, lock, what) rows of db.lint --hazards' tables, a folded cell joined again."""
    rows: list[list[str]] = []
    for line in text.splitlines():
        if not line.startswith("| "):
            continue
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if cells[0] == "Line":
            continue
        if cells[0]:
            rows.append(cells)
        else:
            rows[-1] = [f"{a} {b}".strip() for a, b in zip(rows[-1], cells)]
    return [tuple(row) for row in rows]
