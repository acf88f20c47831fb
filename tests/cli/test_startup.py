"""What a command imports before its work: only what the task touches (see pgparity.lazy)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pgparity.container.engine import KNOWN

SEED = Path(__file__).resolve().parents[2] / "examples" / "seed-drift"
HEAVY = ("docker", "psycopg", "rich", "pglast", "pgparity.schema.model")
# Runs a task inside this interpreter, then says which heavy packages it imported.
RUN_AND_LIST = ("import sys; from pgparity.cli.program import program; "
                "code = 0\ntry:\n    program.run(['pgparity', *sys.argv[1:]], exit=False)\n"
                "except SystemExit as exit:\n    code = exit.code or 0\n"
                f"print('loaded:', ' '.join(m for m in {HEAVY!r} if m in sys.modules), file=sys.stderr)\n"
                "sys.exit(code)")


def loaded(cwd: Path, env: dict[str, str], *task: str) -> tuple[subprocess.CompletedProcess, set[str]]:
    result = subprocess.run([sys.executable, "-c", RUN_AND_LIST, *task], cwd=cwd, env=env, capture_output=True,
                            text=True, timeout=180)
    line = next(line for line in result.stderr.splitlines() if line.startswith("loaded:"))
    return result, set(line.removeprefix("loaded:").split())


def test_lint_imports_neither_docker_nor_psycopg_nor_rich(tmp_path):
    (tmp_path / "migrations").mkdir()
    (tmp_path / "migrations" / "001_users.sql").write_text("CREATE TABLE users (id int);\n")
    (tmp_path / "migrations" / "002_email.sql").write_text("ALTER TABLE users ADD COLUMN email text;\n")
    env = {key: value for key, value in os.environ.items() if not key.startswith("PGPARITY_")}
    env["DOCKER_HOST"] = "unix:///nonexistent.sock"
    env["PGPARITY_PROD_URL"] = "postgresql://ro:secret@db.internal/app"  # checked by libpq only where it is used
    result, heavy = loaded(tmp_path, env, "db.lint")
    assert result.returncode == 0, result.stderr
    assert "2 migrations, 0 findings, no errors" in result.stdout
    assert heavy == set(), heavy


@pytest.mark.docker
def test_a_warm_sync_reaches_its_server_without_docker(project):
    """Nor reads more of the production profile than what the container mirrors."""
    (project.root / "parity").mkdir()
    shutil.copy(SEED / "parity" / "production.json", project.root / "parity" / "production.json")
    (project.root / "migrations").mkdir()
    (project.root / "migrations" / "001_users.sql").write_text("CREATE TABLE users (id int);\n")
    for task in ("db.up", "db.sync"):
        assert project.run(task).returncode == 0
    result, heavy = loaded(project.root, project.env, "db.sync")
    assert result.returncode == 0, result.stderr
    assert "cache hit" in result.stdout
    assert "docker" not in heavy and "pgparity.schema.model" not in heavy and "psycopg" in heavy


@pytest.mark.docker
def test_a_remembered_server_that_is_another_cluster_is_not_used(project):
    """The record names the cluster the last db.up made ready; a server on that port that is not that cluster
    (a volume made again, another server) sends the command through Docker, which finds the real one."""
    (project.root / "migrations").mkdir()
    (project.root / "migrations" / "001_users.sql").write_text("CREATE TABLE users (id int);\n")
    assert project.run("db.up").returncode == 0
    record = project.root / ".pgparity-cache" / KNOWN
    known = json.loads(record.read_text())
    record.write_text(json.dumps({**known, "cluster": "1"}))
    result, heavy = loaded(project.root, project.env, "db.sync")
    assert result.returncode == 0, result.stderr
    assert "docker" in heavy
    assert json.loads(record.read_text())["cluster"] == known["cluster"]  # written again after Docker's answer
    assert project.run("db.down").returncode == 0
    assert not record.exists()
