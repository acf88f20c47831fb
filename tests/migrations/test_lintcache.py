"""Lint results kept by file content: the same plan as a full lint, and a full lint whenever in doubt."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pgparity.migrations import discovery
from pgparity.migrations.discovery import discover
from pgparity.migrations.lintcache import FILE_NAME, LintCache
from pgparity.migrations.model import Plan

FILES = {
    "001_users.sql": "CREATE TABLE users (id int);\n",
    "002_index.sql": "CREATE INDEX CONCURRENTLY users_id ON users (id);\n",
    "003_meta.sql": "\\set ON_ERROR_STOP on\nSELECT 1;\n",
    "004_own.sql": "-- pgparity: no-transaction\nVACUUM users;\n",
    "005_tx.sql": "BEGIN;\nCREATE TABLE roles (id int);\nCOMMIT;\n",
}


@pytest.fixture
def tree(tmp_path) -> Path:
    directory = tmp_path / "migrations"
    directory.mkdir()
    for name, text in FILES.items():
        (directory / name).write_text(text, encoding="utf-8")
    return directory


def cached(tree: Path) -> Plan:
    return discover(tree, cache=LintCache(tree.parent / "cache"))


def lint_calls(monkeypatch) -> list[Path]:
    """Record which files are really linted."""
    calls: list[Path] = []
    real = discovery.lint_chunks

    def counting(path, chunks, *layout):
        calls.append(path)
        return real(path, chunks, *layout)

    monkeypatch.setattr(discovery, "lint_chunks", counting)
    return calls


def test_a_cached_plan_is_the_plan_of_a_full_lint(tree, monkeypatch):
    first = cached(tree)
    calls = lint_calls(monkeypatch)
    second = cached(tree)
    assert calls == []
    assert second == first == discover(tree)
    assert {f.path.name for f in second.errors} == {"002_index.sql", "003_meta.sql"}
    assert [m.no_transaction for m in second.migrations] == [False, False, False, True, False]
    assert [m.controls_transaction for m in second.migrations] == [False, False, False, False, True]


def test_an_edited_file_is_linted_again_and_only_it(tree, monkeypatch):
    cached(tree)
    (tree / "001_users.sql").write_text("CREATE TABLE users (id int);\n\\i other.sql\n", encoding="utf-8")
    calls = lint_calls(monkeypatch)
    plan = cached(tree)
    assert [path.name for path in calls] == ["001_users.sql"]
    assert any(f.path.name == "001_users.sql" and f.line == 2 and "meta-command \\i" in f.message
               for f in plan.errors)


def test_a_renamed_file_keeps_its_findings_under_its_new_name(tree, monkeypatch):
    cached(tree)
    (tree / "002_index.sql").rename(tree / "002_users_index.sql")
    calls = lint_calls(monkeypatch)
    plan = cached(tree)
    assert calls == []
    assert any(f.path.name == "002_users_index.sql" and "CONCURRENTLY" in f.message for f in plan.errors)


def test_results_kept_for_other_lint_rules_are_not_used(tree, monkeypatch):
    cached(tree)
    store = tree.parent / "cache" / FILE_NAME
    data = json.loads(store.read_text())
    data["rules"] = "an older pgparity"
    store.write_text(json.dumps(data))
    calls = lint_calls(monkeypatch)
    cached(tree)
    assert len(calls) == len(FILES)
    assert json.loads(store.read_text())["rules"] != "an older pgparity"


@pytest.mark.parametrize("content", ["{not json", '{"rules": 1}', "[]", ""])
def test_a_damaged_cache_is_replaced_by_a_full_lint(tree, monkeypatch, content):
    folder = tree.parent / "cache"
    folder.mkdir()
    (folder / FILE_NAME).write_text(content)
    calls = lint_calls(monkeypatch)
    assert cached(tree) == discover(tree)
    assert len(calls) == 2 * len(FILES)
    assert set(json.loads((folder / FILE_NAME).read_text())["files"]) == {m.checksum for m in discover(tree).migrations}


def test_the_cache_keeps_only_the_files_of_the_last_run_and_ignores_itself_in_git(tree):
    cached(tree)
    (tree / "001_users.sql").unlink()
    cached(tree)
    folder = tree.parent / "cache"
    stored = json.loads((folder / FILE_NAME).read_text())["files"]
    assert len(stored) == len(FILES) - 1
    assert (folder / ".gitignore").read_text().splitlines()[-1] == "*"
    assert sorted(path.name for path in folder.iterdir()) == [".gitignore", FILE_NAME]


def test_a_cache_that_cannot_be_written_is_a_warning_and_lint_still_runs(tree):
    blocker = tree.parent / "cache"
    blocker.write_text("a file where the cache folder should be")
    plan = cached(tree)
    warning = [f for f in plan.findings if f.level == "warning" and f.path == blocker]
    assert len(warning) == 1 and "lint cache not saved" in warning[0].message
    assert plan.errors == discover(tree).errors


def test_db_lint_keeps_its_cache_in_the_project_and_still_reports_edits(tmp_path):
    (tmp_path / "migrations").mkdir()
    (tmp_path / "migrations" / "001_users.sql").write_text("CREATE TABLE users (id int);\n")
    env = {key: value for key, value in os.environ.items() if not key.startswith("PGPARITY_")}

    def lint() -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "pgparity", "db.lint"], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=60)

    assert lint().returncode == 0
    assert (tmp_path / ".pgparity-cache" / FILE_NAME).is_file()
    (tmp_path / "migrations" / "001_users.sql").write_text("VACUUM;\n")
    broken = lint()
    assert broken.returncode != 0 and "001_users.sql:1" in broken.stderr and "VACUUM" in broken.stderr
