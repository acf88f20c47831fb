"""The one error boundary: every bad input is one `pgparity:` line naming its culprit, exit 2, no secret shown."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from io import StringIO
from pathlib import Path

import docker.errors
import psycopg
import pytest
from commands import one_error_line, write
from conftest import Project
from invoke.exceptions import Exit
from rich.console import Console

from pgparity.cli import report, shell
from pgparity.data.archive import verify_archive
from pgparity.database import connect
from pgparity.errors import DatabaseError, DumpError
from pgparity.schema.model import Schema, ServerVersion, Snapshot
from pgparity.schema.serialize import dump_snapshot

SECRET = "it's a \"pw\" $HOME"


@pytest.fixture
def folder(tmp_path) -> Project:
    """A project folder whose commands never reach Docker: every case below fails before they would."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PGPARITY_")}
    env.update(PGPARITY_PROJECT="errors", PGPARITY_PASSWORD="s3cret-pw")
    return Project("errors", tmp_path, env)


def invoke(folder: Project, *args: str) -> subprocess.CompletedProcess:
    """The same tasks through invoke's own program and a project's tasks.py."""
    (folder.root / "tasks.py").write_text("from invoke import Collection\nfrom pgparity.tasks import db\n\n"
                                          "namespace = Collection(db)\n")
    binary = Path(sys.executable).with_name("invoke")
    return subprocess.run([str(binary), *args], cwd=folder.root, env=folder.env, capture_output=True, text=True)


@pytest.mark.parametrize("args, culprit", [
    (("db.sync", "--fast"), "'--fast'"),                                # B58
    (("db.verify", "--jsn"), "'--jsn'"),                                # B59
    (("db.dump", "--jobs", "abc"), "--jobs must be a whole number, got 'abc'"),  # B61
    (("db.logs", "--tail", "abc"), "--tail must be a whole number, got 'abc'"),  # B64
    (("db.synk",), "'db.synk'"),                                        # B65
    (("db.restore",), "'db.restore' did not receive required positional arguments: 'file'"),  # B68
    (("--fast",), "'--fast'"),
])
def test_command_line_mistakes_are_one_line_and_exit_2(folder, args, culprit):
    line = one_error_line(folder.run(*args))
    assert culprit in line


@pytest.mark.parametrize("args, culprit", [
    (("db.dump", "--jobs", "abc"), "--jobs must be a whole number, got 'abc'"),
    (("db.logs", "--tail", "-3"), "--tail must be a whole number, got '-3'"),
])
def test_number_flags_are_checked_by_the_task_under_invoke_too(folder, args, culprit):
    assert culprit in one_error_line(invoke(folder, *args))


def test_diff_with_an_unknown_side_lists_the_choices(folder):  # B63
    line = one_error_line(folder.run("db.diff", "--target", "bogus"))
    assert "--target takes dev, migrations, profile, prod, a postgresql:// URL or a snapshot file" in line
    assert "'bogus'" in line


def test_snapshot_from_an_unknown_source_says_what_from_takes(folder):  # B66
    line = one_error_line(folder.run("db.snapshot", "--from", "staging"))
    assert "--from takes dev, migrations, profile, prod" in line and "'staging'" in line
    assert not (folder.root / "parity").exists()


@pytest.mark.parametrize("args", [("--from", "dev"), ("--from", "migrations"), ("--from", "dev", "--output",
                                                                                  "parity/production.json")])
def test_only_prod_writes_the_production_profile(folder, args):
    profile = folder.root / "parity" / "production.json"
    profile.parent.mkdir()
    profile.write_text("kept")
    line = one_error_line(folder.run("db.snapshot", *args))
    assert "only --from prod writes the production profile (parity/production.json)" in line
    assert profile.read_text() == "kept"


def test_fix_refuses_a_name_that_is_not_a_file_name(folder):  # B67
    line = one_error_line(folder.run("db.fix", "--target", "dev", "--name", "../../evil"))
    assert "--name must be letters, digits" in line and "'../../evil'" in line


def snapshot_file(path: Path) -> str:
    path.write_text(dump_snapshot(Snapshot(
        server=ServerVersion("PostgreSQL 15", 150000), settings=(), roles=(), extensions=(),
        schemas=(Schema("public", "postgres", None),), tables=(), views=(), materialized_views=(),
        sequences=(), functions=(), enums=(), domains=(), types=(), ledger=None)))
    return path.name


def test_report_in_a_missing_folder_names_the_setting(folder):  # B69
    one, other = snapshot_file(folder.root / "a.json"), snapshot_file(folder.root / "b.json")
    result = folder.run("db.diff", "--source", one, "--target", other,
                        extra={"CI": "1", "PGPARITY_REPORT": "nowhere/report.json"})
    line = one_error_line(result)
    assert line.startswith("pgparity: PGPARITY_REPORT: cannot write the JSON report to nowhere/report.json")


@pytest.mark.parametrize("env_file, expected", [
    ('PGPARITY_IMAGE=postgres:15\nPGPARITY_PROJECT="nc-bad\n', ".env:2: not a KEY=value line"),  # B07
    ("PGPARITY_IMAGE=postgres:15\nthis is not a setting\n", ".env:2: not a KEY=value line"),     # B11
])
def test_env_lines_dotenv_cannot_parse_stop_with_file_and_line(folder, env_file, expected):
    (folder.root / ".env").write_text(env_file)
    result = folder.run("db.lint")
    assert expected in one_error_line(result)
    assert "python-dotenv" not in result.stderr


def test_env_that_is_a_directory_is_named(folder):  # B102
    (folder.root / ".env").mkdir()
    assert ".env: is a directory" in one_error_line(folder.run("db.lint"))


def test_missing_project_file_named_in_pgparity_config(folder):
    line = one_error_line(folder.run("db.lint", extra={"PGPARITY_CONFIG": "pgparity-ci.toml"}))
    assert "PGPARITY_CONFIG names pgparity-ci.toml, which is not a file" in line


@pytest.mark.parametrize("task", ["db.verify", "db.up", "db.down"])
def test_an_unknown_placeholder_in_the_project_template_names_the_key_and_its_file(folder, task):
    del folder.env["PGPARITY_PROJECT"]
    (folder.root / ".env.local").write_text("PGPARITY_PROJECT={folder}-{user}\n")
    line = one_error_line(folder.run(task))
    assert line == ("pgparity: .env.local: PGPARITY_PROJECT has an unknown placeholder {user} (known: {folder}, "
                    "{branch}, {hash}), got '{folder}-{user}'")


def test_user_name_with_a_space_is_refused_by_its_key(folder):  # B17
    line = one_error_line(folder.run("db.lint", extra={"PGPARITY_USER": "Bad User"}))
    assert "environment: PGPARITY_USER must be letters, digits" in line


def test_each_lint_error_is_printed_once(folder):  # B23
    write(folder, {"001_a.sql": "SELECT 1;\n\\i other.sql\n"})
    result = folder.run("db.lint")
    assert result.returncode == 2
    assert result.stderr.count("001_a.sql:2") == 1, result.stderr
    assert result.stderr.strip().splitlines()[-1] == "pgparity: migrations/: 1 lint error, listed above"


def test_a_closed_pipe_ends_quietly(folder):
    read, written = os.pipe()
    os.close(read)
    result = subprocess.run([sys.executable, "-m", "pgparity", "--list"], cwd=folder.root, env=folder.env,
                            stdout=written, stderr=subprocess.PIPE, text=True)
    os.close(written)
    assert result.returncode == shell.BROKEN_PIPE_EXIT and result.stderr == ""


@pytest.mark.parametrize("setup, expected", [
    (lambda root: (root / "pgparity.toml").write_text("[migrations\n"), "pgparity: pgparity.toml: not valid TOML"),
    (lambda root: (root / "pgparity.toml").write_text("[verify]\nignore = 5\n"),
     "pgparity: pgparity.toml: verify.ignore must be a list of strings"),
    (lambda root: None, "pgparity: migrations: migrations directory not found"),
    (lambda root: ((root / "migrations").mkdir(), (root / "migrations" / "002_gone.sql").symlink_to(root / "no.sql")),
     "pgparity: migrations/002_gone.sql: cannot read: No such file or directory"),
])
def test_files_in_the_project_folder_are_named_as_typed_there(folder, setup, expected):  # B19-B27, B55
    setup(folder.root)
    assert one_error_line(folder.run("db.lint")).startswith(expected)


def test_snapshot_names_the_file_it_wrote_as_typed_there(folder):  # B96
    (folder.root / "parity").mkdir()
    snapshot_file(folder.root / "parity" / "production.json")
    written = folder.run("db.snapshot", "--from", "profile", "--output", "copies/profile.json")
    assert written.returncode == 0, written.stderr
    assert written.stdout == "wrote copies/profile.json (0 tables, PostgreSQL 15.0)\n"


def test_a_dump_in_the_project_folder_is_named_as_typed_there(tmp_path, monkeypatch):  # B79-B83
    monkeypatch.chdir(tmp_path)
    (tmp_path / "dumps").mkdir()
    (tmp_path / "dumps" / "notes.sanitized.zip").write_text("just text\n")
    with pytest.raises(DumpError, match=r"^dumps/notes\.sanitized\.zip: not a complete pgparity dump"):
        verify_archive(tmp_path / "dumps" / "notes.sanitized.zip")
    with pytest.raises(DumpError, match=r"^dumps/none\.zip: no such dump$"):
        verify_archive(tmp_path / "dumps" / "none.zip")


# --- the boundary itself ---------------------------------------------------------------------


def failing(error: Exception):
    @shell.guarded
    def body():
        raise error
    return body


def exit_of(body) -> Exit:
    with pytest.raises(Exit) as caught:
        body()
    return caught.value


def test_an_unexpected_exception_says_it_is_a_bug_and_where_to_report_it(monkeypatch):
    monkeypatch.delenv("INVOKE_DEBUG", raising=False)
    raised = exit_of(failing(KeyError("tables")))
    assert raised.code == 2
    assert raised.message.startswith("pgparity: this is a bug in pgparity (KeyError: 'tables')")
    assert "--debug" in raised.message and "Reporting a bug" in raised.message and "\n" not in raised.message


def test_debug_shows_the_exception_itself(monkeypatch):
    monkeypatch.setenv("INVOKE_DEBUG", "1")
    with pytest.raises(KeyError):
        failing(KeyError("tables"))()


@pytest.mark.parametrize("error", [
    psycopg.ProgrammingError(f'unexpected spaces found in "{SECRET}", use quotes'),
    docker.errors.DockerException(f"bad POSTGRES_PASSWORD={SECRET}\nsecond line"),
    OSError(f"cannot open postgresql://readonly:hunter2-prod@db.internal/app and {SECRET}"),
])
def test_secrets_are_masked_in_the_drivers_and_the_engines_messages(monkeypatch, tmp_path, error):  # B12, B97
    monkeypatch.delenv("INVOKE_DEBUG", raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PGPARITY_PASSWORD", SECRET)
    raised = exit_of(failing(error))
    assert raised.code == 2 and "\n" not in raised.message
    assert SECRET not in raised.message and "hunter2-prod" not in raised.message and "****" in raised.message
    assert raised.message.startswith(f"pgparity: {type(error).__name__}: ")


def test_a_url_libpq_cannot_parse_is_named_without_its_password():  # B97
    with pytest.raises(DatabaseError) as caught:
        connect("postgresql://ro:se cret@127.0.0.1:1/Weird-DB 'x'")
    assert str(caught.value).startswith("cannot parse the connection URL postgresql://ro:****@127.0.0.1:1/Weird-DB")
    assert "se cret" not in str(caught.value) and "percent-encoded" in str(caught.value)


# --- with the engine -------------------------------------------------------------------------


def test_a_password_with_quotes_spaces_and_dollars_works(project):  # B12
    project.env["PGPARITY_PASSWORD"] = SECRET
    write(project, {"001_t.sql": "CREATE TABLE t (id int);"})
    result = project.run("db.sync")
    assert result.returncode == 0, result.stderr
    assert SECRET not in result.stdout + result.stderr


def test_a_container_killed_mid_sync_is_named_with_its_last_log_lines(project, docker_client):  # B87
    write(project, {"001_slow.sql": "SELECT pg_sleep(120);"})
    assert project.run("db.up").returncode == 0
    sync = subprocess.Popen([sys.executable, "-m", "pgparity", "db.sync"], cwd=project.root, env=project.env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    with psycopg.connect(project.url("postgres"), autocommit=True) as conn:
        while not conn.execute("SELECT 1 FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(120)%'").fetchone():
            assert time.monotonic() < deadline and sync.poll() is None, sync.communicate()
            time.sleep(0.2)
    docker_client.containers.get(f"{project.name}-db-1").kill()
    stdout, stderr = sync.communicate(timeout=60)
    line = one_error_line(subprocess.CompletedProcess(sync.args, sync.returncode, stdout, stderr))
    assert f"{project.name}-db-1 stopped while the command ran (exited, exit code 137" in line
    assert "its last log lines:" in line and project.env["PGPARITY_PASSWORD"] not in line


def test_warnings_are_masked_like_errors(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PGPARITY_PASSWORD", "warn-s3cret")
    buffer = StringIO()
    monkeypatch.setattr(report, "err", Console(file=buffer, width=200))
    report.warn("login as app with warn-s3cret failed at postgresql://ro:other-pw@db/app")
    assert buffer.getvalue().strip() == "pgparity: warning: login as app with **** failed at postgresql://ro:****@db/app"


def test_a_broken_profile_says_it_is_the_one_dev_mirrors(folder):  # B76
    (folder.root / "parity").mkdir()
    (folder.root / "parity" / "production.json").write_text("{not json")
    (folder.root / "other.json").write_text("{}")
    line = one_error_line(folder.run("db.diff", "--source", "dev", "--target", "other.json"))
    assert line.startswith("pgparity: parity/production.json is not a pgparity snapshot")
    assert "which dev mirrors" in line and "db.snapshot --from prod" in line


@pytest.mark.parametrize("task", ["db.restore", "db.new", "db.stamp"])
@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_help_after_a_task_that_takes_an_argument_shows_its_help(folder, task, flag):
    result = folder.run(task, flag)
    assert result.returncode == 0 and f"db.{task[3:]} [--options]" in result.stdout, result.stderr
    assert not (folder.root / "migrations").exists()


def test_a_task_s_help_keeps_its_flags_descriptions(folder):
    result = folder.run("db.psql", "--help")
    assert "run one SQL command and exit with psql's status" in result.stdout, result.stderr


def test_version_and_completion_as_the_readme_says(folder):
    from pgparity import __version__

    assert folder.run("--version").stdout.strip() == f"pgparity {__version__}"
    script = folder.run("--print-completion-script", "bash").stdout
    assert "pgparity --complete" in script and "complete -F" in script
    assert "db.rollback" in folder.run("--complete", "--", "pgparity", "db.").stdout.split()
