"""Replays the bad inputs and faults a new user tried, against the current code, and prints what each left.

Each case gets a fresh throwaway project folder, applies its bad input, runs `python -m pgparity ...` and records
the exit status, the number of stderr lines, whether the output is one `pgparity:` line, whether a secret showed,
and the first 160 characters of that line. Cases that need no server run first; those that need one share one dev
environment (its own project, started by `db.up`), which also plays production through a read-only role of its
own. Everything carrying the run's project labels is removed at the end, even after a failure.

    PGPARITY_IMAGE=pgparity-test-postgres:15-c8981b846eff .venv/bin/python bench/bad_inputs.py [B48 B18 ...]
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from _common import IMAGE_REPOSITORY, LABEL, PYTHON, ROOT, find_image, free_port, progress, remove_labelled

DEV_SECRET = "it's a \"pw\" $HOME"  # B12: the dev password holds quotes, spaces and $
PROD_USER, PROD_SECRET = "bi_reader", "prod-Secret-77x"
PROD_DATABASE = "prod"
OTHER_SECRET = "another-Secret-2"  # B18
SECRETS = (DEV_SECRET, PROD_SECRET, OTHER_SECRET)
PRINTED = 160
JSON_PROFILE = "parity/production.json"
A = {"001_a.sql": "CREATE TABLE a (id int);\n"}  # one harmless migration
TIMEOUT = 240
LINT_SUMMARY = re.compile(r"pgparity: migrations/: \d+ lint errors?, listed above$")


@dataclass
class Folder:
    """One case's project folder and the variables its commands run with."""

    root: Path
    env: dict[str, str]

    def write(self, path: str, text: str | bytes) -> Path:
        target = self.root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(text if isinstance(text, bytes) else text.encode())
        return target

    def run(self, *args: str, extra: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(PYTHON), "-m", "pgparity", *args], cwd=self.root, env={**self.env, **(extra or {})},
                              capture_output=True, text=True, timeout=TIMEOUT)

    def must(self, *args: str) -> None:
        """A setup step that has to succeed."""
        result = self.run(*args)
        if result.returncode:
            raise RuntimeError(f"setup `{' '.join(args)}` exited {result.returncode}: {result.stderr.strip()[-400:]}")


Setup = Callable[[Folder], None]


def nothing(folder: Folder) -> None:
    pass


@dataclass(frozen=True)
class Case:
    number: str
    title: str
    args: tuple[str, ...]
    setup: Setup = nothing
    extra: dict[str, str] = field(default_factory=dict)
    expected: int = 2  # 0 where the input is accepted by design
    server: bool = False
    runner: Callable[[Folder, Case], subprocess.CompletedProcess[str]] | None = None


@dataclass(frozen=True)
class Outcome:
    case: Case
    rc: int | str
    stderr_lines: int
    one_line: bool
    leaked: bool
    printed: str
    stderr: str = ""
    lint: bool = False  # lint's findings (errors, warnings), one line each, then one `pgparity:` line

    @property
    def good(self) -> bool:
        shaped = self.one_line or self.lint or self.case.expected == 0
        return self.rc == self.case.expected and not self.leaked and shaped


# --- setups -----------------------------------------------------------------------------------


def env_file(text: str, name: str = ".env") -> Setup:
    return lambda folder: folder.write(name, text)


def migrations(files: dict[str, str | bytes]) -> Setup:
    def setup(folder: Folder) -> None:
        for name, text in files.items():
            folder.write(f"migrations/{name}", text)
    return setup


def project_file(text: str) -> Setup:
    def setup(folder: Folder) -> None:
        migrations({"001_a.sql": "CREATE TABLE a (id int);\n"})(folder)
        folder.write("pgparity.toml", text)
    return setup


def compose(edit: Callable[[str], str]) -> Setup:
    def setup(folder: Folder) -> None:
        folder.write("compose/compose.yaml", edit((ROOT / "compose" / "compose.yaml").read_text()))
    return setup


def replaced(old: str, new: str) -> Callable[[str], str]:
    def edit(text: str) -> str:
        if old not in text:
            raise RuntimeError(f"compose.yaml no longer holds {old!r}")
        return text.replace(old, new, 1)
    return edit


def profile(text: str | bytes, path: str = JSON_PROFILE) -> Setup:
    return lambda folder: folder.write(path, text)


def snapshot_text() -> str:
    sys.path.insert(0, str(ROOT / "src"))
    from pgparity.schema.model import Schema, ServerVersion, Snapshot
    from pgparity.schema.serialize import dump_snapshot

    return dump_snapshot(Snapshot(
        server=ServerVersion("PostgreSQL 15", 150000), settings=(), roles=(), extensions=(),
        schemas=(Schema("public", "postgres", None),), tables=(), views=(), materialized_views=(),
        sequences=(), functions=(), enums=(), domains=(), types=(), ledger=None))


def snapshots(*names: str, corrupt_profile: bool = False) -> Setup:
    def setup(folder: Folder) -> None:
        for name in names:
            folder.write(name, snapshot_text())
        if corrupt_profile:
            folder.write(JSON_PROFILE, '{"format": 1, "tables": [')
    return setup


def with_profile_field(edit: Callable[[dict], object]) -> Setup:
    def setup(folder: Folder) -> None:
        import json

        data = json.loads(snapshot_text())
        data = edit(data) or data
        folder.write(JSON_PROFILE, json.dumps(data))
    return setup


def table_with_bad_column(data: dict) -> None:
    data["tables"] = [{"schema": "public", "name": "t", "columns": [{"name": "c", "type": 5}]}]


def applied_then(change: Callable[[Path], None], files: dict[str, str]) -> Setup:
    """Migrations synced to dev, then changed on disk (renamed, deleted)."""
    def setup(folder: Folder) -> None:
        migrations(files)(folder)
        folder.must("db.sync")
        change(folder.root / "migrations")
    return setup


def dump_file(data: bytes) -> Setup:
    return lambda folder: (migrations(A)(folder), folder.write("dumps/bad.sanitized.zip", data))


def foreign_zip(folder: Folder) -> None:
    import zipfile

    migrations(A)(folder)
    with zipfile.ZipFile(folder.root / "other.zip", "w") as archive:
        archive.writestr("readme.txt", "not a dump")


def dangling(folder: Folder) -> None:
    (folder.root / "migrations").mkdir()
    (folder.root / "migrations" / "002_gone.sql").symlink_to(folder.root / "nowhere.sql")
    folder.write("migrations/001_a.sql", "CREATE TABLE a (id int);\n")


# --- runners for faults that happen while a command runs --------------------------------------


def port_taken(folder: Folder, case: Case) -> subprocess.CompletedProcess[str]:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", int(folder.env["PGPARITY_PORT"])))
        holder.listen()
        return folder.run(*case.args, extra=case.extra)


def keeps_running(folder: Folder, case: Case) -> subprocess.CompletedProcess[str]:
    """B33: a compose file refused while the dev server runs must leave it running (nothing lost)."""
    result = folder.run(*case.args, extra=case.extra)
    container = f"{folder.env['PGPARITY_PROJECT']}-db-1"
    state = subprocess.run(["docker", "inspect", "-f", "{{.State.Status}}", container], capture_output=True, text=True)
    if state.stdout.strip() != "running":
        result.stderr += f"bench: {container} is {state.stdout.strip() or 'gone'} afterwards\n"
    return result


def killed_mid_sync(folder: Folder, case: Case) -> subprocess.CompletedProcess[str]:
    """B87: `docker kill` of the project's own container while a sync replays a slow migration."""
    container = f"{folder.env['PGPARITY_PROJECT']}-db-1"
    process = subprocess.Popen([str(PYTHON), "-m", "pgparity", *case.args], cwd=folder.root, env=folder.env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(8)
    subprocess.run(["docker", "kill", container], capture_output=True)
    stdout, stderr = process.communicate(timeout=TIMEOUT)
    folder.must("db.up")  # the dev server back for the cases after this one
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


# --- the cases --------------------------------------------------------------------------------


NO_SERVER: list[Case] = [
    Case("B01", "unknown key PGPARITY_PORTT in .env", ("db.verify",), env_file("PGPARITY_PORTT=5432\n")),
    Case("B02", "PGPARITY_PORT=abc", ("db.verify",), extra={"PGPARITY_PORT": "abc"}),
    Case("B03", "PGPARITY_PORT=0", ("db.verify",), extra={"PGPARITY_PORT": "0"}),
    Case("B04", "PGPARITY_PORT=65536", ("db.verify",), extra={"PGPARITY_PORT": "65536"}),
    Case("B05", "PGPARITY_PASSWORD= (empty)", ("db.verify",), extra={"PGPARITY_PASSWORD": ""}),
    Case("B06", "PGPARITY_PROJECT=My Project!", ("db.status",), extra={"PGPARITY_PROJECT": "My Project!"}),
    Case("B07", "unbalanced quote in .env", ("db.status",),
         env_file('PGPARITY_TIMEOUT=60\nPGPARITY_DURABLE="false\n')),
    Case("B08", "PGPARITY_FOO=1 in process env", ("db.status",), extra={"PGPARITY_FOO": "1"}),
    Case("B09", "PGPARITY_DURABLE=maybe in .env.local", ("db.status",),
         env_file("PGPARITY_DURABLE=maybe\n", ".env.local")),
    Case("B10", "PGPARITY_TIMEOUT=-5", ("db.status",), extra={"PGPARITY_TIMEOUT": "-5"}),
    Case("B11", "garbage line in .env.local", ("db.status",),
         env_file("PGPARITY_TIMEOUT=60\nthis is not a setting\n", ".env.local")),
    Case("B13", "PGPARITY_MIGRATIONS=/nonexistent", ("db.lint",), extra={"PGPARITY_MIGRATIONS": "/nonexistent"}),
    Case("B14", "PGPARITY_PROD_URL=postgres//bad", ("db.snapshot", "--from", "prod"),
         env_file("PGPARITY_PROD_URL=postgres//bad\n", ".env.local")),
    Case("B15", 'PGPARITY_DATABASE=my-db"x', ("db.status",), extra={"PGPARITY_DATABASE": 'my-db"x'}),
    Case("B16", "PGPARITY_IMAGE= (empty)", ("db.status",), extra={"PGPARITY_IMAGE": ""}),
    Case("B17", "PGPARITY_USER=Bad User", ("db.status",), extra={"PGPARITY_USER": "Bad User"}),
    Case("B19", "pgparity.toml syntax error", ("db.lint",), project_file("[migrations\n")),
    Case("B20", '[migrations] skip = "x"', ("db.lint",), project_file('[migrations]\nskip = "x"\n')),
    Case("B21", "[migrations] order = 7", ("db.lint",), project_file("[migrations]\norder = 7\n")),
    Case("B22", "unknown section [migratons]", ("db.lint",), project_file("[migratons]\nskip = []\n")),
    Case("B23", "baseline file = 000_nowhere.sql", ("db.lint",),
         project_file('[migrations]\nbaseline = { file = "000_nowhere.sql", through = 1 }\n')),
    Case("B24", 'baseline through = "six"', ("db.lint",),
         project_file('[migrations]\nbaseline = { file = "001_a.sql", through = "six" }\n')),
    Case("B25", "[verify] ignore = 5", ("db.verify",), project_file("[verify]\nignore = 5\n")),
    Case("B26", "[verify] ignor = [...]", ("db.verify",), project_file('[verify]\nignor = ["x"]\n')),
    Case("B27", "sanitize transformer rot13", ("db.lint",),
         project_file('[sanitize.columns]\n"public.users.email" = "rot13"\n')),
    Case("B29", "compose.yaml broken YAML", ("db.up",), compose(lambda text: text + "\n  bad: [unclosed\n")),
    Case("B30", "compose.yaml without service db", ("db.up",), compose(replaced("  db:", "  web:"))),
    Case("B31", "PGPARITY_COMPOSE_FILE missing", ("db.up",), extra={"PGPARITY_COMPOSE_FILE": "nope/compose.yaml"}),
    Case("B32", "compose labels with ${PGPARITY_NOPE}", ("db.up",),
         compose(replaced("    shm_size:", "    labels:\n      team: ${PGPARITY_NOPE}\n    shm_size:"))),
    Case("B34", "compose binds 0.0.0.0", ("db.up",), compose(replaced('"127.0.0.1:${PGPARITY_PORT}',
                                                                       '"0.0.0.0:${PGPARITY_PORT}'))),
    Case("B47", "two CONCURRENTLY in one no-transaction file", ("db.lint",), migrations({
        **A, "002_idx.sql": "-- pgparity: no-transaction\nCREATE INDEX CONCURRENTLY a1 ON a (id);\n"
                            "CREATE INDEX CONCURRENTLY a2 ON a (id);\n"})),
    Case("B53", "0002_x.SQL", ("db.lint",), migrations({**A, "0002_x.SQL": "SELECT 1;\n"}), expected=0),
    Case("B54", "symlink to a file outside migrations/", ("db.lint",), lambda folder: (
        migrations(A)(folder), folder.write("outside.sql", "CREATE TABLE o (id int);\n"),
        (folder.root / "migrations" / "002_link.sql").symlink_to(folder.root / "outside.sql")), expected=0),
    Case("B56", "directory 002_dir.sql/", ("db.lint",),
         lambda folder: (migrations(A)(folder), (folder.root / "migrations" / "002_dir.sql").mkdir()), expected=0),
    Case("B57", "002_x.sql.bak + orphan 002_y.down.sql", ("db.lint",), migrations({
        **A, "002_x.sql.bak": "SELECT 1;\n", "002_y.down.sql": "SELECT 1;\n"}), expected=0),
    Case("B58", "unknown flag --fast", ("db.sync", "--fast")),
    Case("B59", "db.verify --jsn", ("db.verify", "--jsn")),
    Case("B60", "--jobs 0", ("db.dump", "--jobs", "0")),
    Case("B61", "--jobs abc", ("db.dump", "--jobs", "abc")),
    Case("B62", "db.fix --target bogus", ("db.fix", "--target", "bogus")),
    Case("B63", "db.diff --target bogus", ("db.diff", "--target", "bogus")),
    Case("B64", "--tail abc", ("db.logs", "--tail", "abc")),
    Case("B65", "unknown task db.synk", ("db.synk",)),
    Case("B66", "--from staging", ("db.snapshot", "--from", "staging")),
    Case("B67", "--name ../../evil", ("db.fix", "--target", "dev", "--name", "../../evil")),
    Case("B68", "db.restore without FILE", ("db.restore",)),
    Case("B69", "PGPARITY_REPORT in a missing directory, CI=1",
         ("db.diff", "--source", "a.json", "--target", "b.json"), snapshots("a.json", "b.json"),
         extra={"CI": "1", "PGPARITY_REPORT": "nowhere/report.json"}),
    Case("B70", "profile truncated JSON", ("db.snapshot", "--from", "profile", "--output", "out.json"),
         profile('{"format": 1, "tables": [')),
    Case("B71", "profile empty", ("db.snapshot", "--from", "profile", "--output", "out.json"), profile("")),
    Case("B72", "profile format 99", ("db.snapshot", "--from", "profile", "--output", "out.json"),
         with_profile_field(lambda data: data.update(format=99))),
    Case("B73", "profile without tables", ("db.snapshot", "--from", "profile", "--output", "out.json"),
         with_profile_field(lambda data: data.pop("tables"))),
    Case("B74", "profile field wrong type", ("db.snapshot", "--from", "profile", "--output", "out.json"),
         with_profile_field(table_with_bad_column)),
    Case("B75", "profile is a JSON array", ("db.snapshot", "--from", "profile", "--output", "out.json"),
         profile("[1, 2]")),
    Case("B76", "corrupt profile + db.diff of two other files",
         ("db.diff", "--source", "a.json", "--target", "b.json"), snapshots("a.json", "b.json", corrupt_profile=True),
         expected=0),
    Case("B77", "binary snapshot file", ("db.diff", "--source", "a.json", "--target", "bin.json"),
         lambda folder: (snapshots("a.json")(folder), folder.write("bin.json", b"\xff\xfe\x00\x81binary"))),
    Case("B78", "snapshot path is a directory", ("db.diff", "--source", "a.json", "--target", "parity"),
         lambda folder: (snapshots("a.json")(folder), (folder.root / "parity").mkdir())),
    Case("B84", "DOCKER_HOST dead tcp", ("db.status",), extra={"DOCKER_HOST": f"tcp://127.0.0.1:{free_port()}"}),
    Case("B85", "DOCKER_HOST dead unix socket", ("db.verify",), migrations(A),
         extra={"DOCKER_HOST": "unix:///nonexistent.sock"}),
    Case("B86", "DOCKER_HOST=bogus://x", ("db.up",), extra={"DOCKER_HOST": "bogus://x"}),
    Case("B91", "port taken by a process", ("db.up",), runner=port_taken),
    Case("B95", "PROD_URL closed port", ("db.snapshot", "--from", "prod"),
         extra={"PGPARITY_PROD_URL": f"postgresql://ro:{PROD_SECRET}@127.0.0.1:{free_port()}/app"}),
    Case("B102", ".env is a directory", ("db.status",), lambda folder: (folder.root / ".env").mkdir()),
]


def prod_url(database: str = PROD_DATABASE, password: str = PROD_SECRET) -> str:
    return f"postgresql://{PROD_USER}:{password}@127.0.0.1:{{port}}/{database}"


SERVER: list[Case] = [
    Case("B12", "PGPARITY_PASSWORD with quotes, spaces, $ (db.up)", ("db.up",), expected=0, server=True),
    Case("B105", "--restore-backup with no backup", ("db.sync", "--restore-backup"), migrations(A), server=True),
    Case("B79", "truncated dump", ("db.restore", "dumps/bad.sanitized.zip"),
         dump_file(b"PK\x03\x04\x14\x00trunc"), server=True),
    Case("B81", "someone else's zip", ("db.sync", "--from-dump", "other.zip"), foreign_zip, server=True),
    Case("B82", "text file named .zip", ("db.restore", "dumps/bad.sanitized.zip"), dump_file(b"just text\n"),
         server=True),
    Case("B83", "dump path missing", ("db.restore", "dumps/none.sanitized.zip"), migrations(A), server=True),
    Case("B33", "compose shm_size: lots on a running server", ("db.up",),
         compose(replaced("shm_size: 256m", "shm_size: lots")), server=True, runner=keeps_running),
    Case("B35", "compose environment in list form", ("db.up",), compose(lambda text: text.replace(
        "      POSTGRES_USER: ${PGPARITY_USER}\n      POSTGRES_PASSWORD: ${PGPARITY_PASSWORD}\n"
        "      POSTGRES_DB: ${PGPARITY_DATABASE}\n      POSTGRES_INITDB_ARGS: ${PGPARITY_INITDB_ARGS}\n"
        "      # The volume's path, named for every major: from 18 on the images default to a per-major directory.\n"
        "      PGDATA: /var/lib/postgresql/data\n",
        "      - POSTGRES_USER=${PGPARITY_USER}\n      - POSTGRES_PASSWORD=${PGPARITY_PASSWORD}\n"
        "      - POSTGRES_DB=${PGPARITY_DATABASE}\n      - POSTGRES_INITDB_ARGS=${PGPARITY_INITDB_ARGS}\n"
        "      - PGDATA=/var/lib/postgresql/data\n")), expected=0, server=True),
    Case("B36", "compose extra bind-mount volume", ("db.up",),
         lambda folder: (folder.write("extra/x.txt", "x"), compose(replaced(
             "      - data:/var/lib/postgresql/data\n",
             "      - data:/var/lib/postgresql/data\n      - ./../extra:/extra:ro\n"))(folder)),
         expected=0, server=True),
    Case("B37", "SQL error on line 3", ("db.sync",), migrations({
        "001_a.sql": "CREATE TABLE a (id int);\n", "002_mid_error.sql": "SELECT 1;\nSELECT 2;\nSELECT * FROM nosuch_table;\n"}),
         server=True),
    Case("B38", "file with only comments", ("db.sync",), migrations({"001_a.sql": "-- nothing\n/* here */\n"}),
         server=True),
    Case("B39", "UTF-8 BOM", ("db.sync",), migrations({"001_a.sql": b"\xef\xbb\xbfCREATE TABLE a (id int);\n"}),
         server=True),
    Case("B40", "CRLF line endings", ("db.sync",), migrations({"001_a.sql": "CREATE TABLE a (\r\n id int);\r\n"}),
         expected=0, server=True),
    Case("B41", "non-UTF-8 byte", ("db.sync",), migrations({"001_a.sql": b"CREATE TABLE a (id int); -- \xe9t\xe9\n"}),
         server=True),
    Case("B43", "duplicate number 002", ("db.sync",), migrations({
        **A, "002_x.sql": "CREATE TABLE x (id int);\n", "002_y.sql": "CREATE TABLE y (id int);\n"}), server=True),
    Case("B44", "002_backfill.py", ("db.sync",), migrations({**A, "002_backfill.py": "print('hi')\n"}), server=True),
    Case("B45", "\\set and \\i", ("db.sync",), migrations({"001_a.sql": "\\set x 1\nSELECT 1;\n\\i other.sql\n"}),
         server=True),
    Case("B46", "CREATE INDEX CONCURRENTLY without header", ("db.sync",), migrations({
        **A, "002_idx.sql": "CREATE INDEX CONCURRENTLY a_id ON a (id);\n"}), server=True),
    Case("B48", "file COMMITs then fails on line 4", ("db.sync",), migrations({
        "001_commits.sql": "CREATE TABLE c1 (id int);\nCOMMIT;\nCREATE TABLE c2 (id int);\nSELECT 1/0;\n"}),
         server=True),
    Case("B49", "file changes search_path", ("db.sync",), migrations({
        "001_a.sql": "CREATE SCHEMA s;\nSET search_path TO s;\nCREATE TABLE a (id int);\n",
        "002_b.sql": "CREATE TABLE public.b (id int);\n"}), expected=0, server=True),
    Case("B50", "file does SET ROLE nc_app", ("db.sync",), migrations({
        "001_role.sql": "CREATE TABLE r1 (id int);\nGRANT ALL ON SCHEMA public TO nc_app;\nSET ROLE nc_app;\n"
                        "CREATE TABLE r2 (id int);\n"}), expected=0, server=True),  # the ledger row is written as the session user
    Case("B51", "DROP SCHEMA pgparity CASCADE", ("db.sync",), migrations({
        **A, "002_drop_ledger.sql": "DROP SCHEMA pgparity CASCADE;\n"}), server=True),
    Case("B52", "file named 2.sql", ("db.sync",), migrations({**A, "2.sql": "SELECT 1;\n"}), expected=0, server=True),
    Case("B55", "dangling symlink", ("db.sync",), dangling, server=True),
    Case("B42", "CRLF file converted to LF after apply", ("db.migrate",), applied_then(
        lambda directory: (directory / "001_a.sql").write_bytes(b"CREATE TABLE a (\n id int);\n"),
        {"001_a.sql": "CREATE TABLE a (\r\n id int);\r\n"}), expected=0, server=True),  # not an edit
    Case("B99", "applied migration renamed", ("db.migrate",), applied_then(
        lambda directory: (directory / "001_a.sql").rename(directory / "001_renamed.sql"),
        {"001_a.sql": "CREATE TABLE r1 (id int);\n"}), server=True),
    Case("B100", "applied migration deleted", ("db.migrate",), applied_then(
        lambda directory: (directory / "002_b.sql").unlink(),
        {**A, "002_b.sql": "CREATE TABLE b (id int);\n"}), server=True),
    Case("B101", "GRANT to a role nobody has", ("db.sync",), migrations({
        **A, "002_grant.sql": "GRANT SELECT ON a TO nobody_has_this;\n"}), server=True),
    Case("B94", "PROD_URL wrong password", ("db.snapshot", "--from", "prod"),
         extra={"PGPARITY_PROD_URL": prod_url(password="wrong-Secret-1")}, server=True),
    Case("B96", "prod database name percent-encoded", ("db.snapshot", "--from", "prod"),
         extra={"PGPARITY_PROD_URL": prod_url("Weird-DB%20%27x%27%20%C3%BC")}, expected=0, server=True),
    Case("B97", "prod database name not percent-encoded", ("db.snapshot", "--from", "prod"),
         extra={"PGPARITY_PROD_URL": prod_url("Weird-DB 'x' ü")}, server=True),
    Case("B98", "prod database does not exist", ("db.snapshot", "--from", "prod"),
         extra={"PGPARITY_PROD_URL": prod_url("no_such_db")}, server=True),
    Case("B109", "readonly prod role without SELECT on a sequence", ("db.dump",), server=True,
         extra={"PGPARITY_PROD_URL": prod_url(), "PGPARITY_SANITIZE_SECRET": "bench-sanitize-secret-1234"}),
    Case("B87", "docker kill of the dev container mid-sync", ("db.sync", "--no-cache"),
         migrations({**A, "002_slow.sql": "SELECT pg_sleep(60);\n"}), server=True, runner=killed_mid_sync),
    Case("B18", "PGPARITY_PASSWORD changed after the volume was initialised", ("db.verify",),
         lambda folder: (migrations(A)(folder), snapshots(JSON_PROFILE)(folder)),
         extra={"PGPARITY_PASSWORD": OTHER_SECRET}, server=True),
]


# --- running ----------------------------------------------------------------------------------


def base_env(project: str, image: str, port: int, password: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PGPARITY_") and k not in ("CI", "GITHUB_STEP_SUMMARY")}
    env.update(PGPARITY_PROJECT=project, PGPARITY_IMAGE=image, PGPARITY_IMAGE_REPOSITORY=IMAGE_REPOSITORY,
               PGPARITY_PORT=str(port), PGPARITY_PASSWORD=password, PGPARITY_TIMEOUT="90")
    return env


def outcome(case: Case, result: subprocess.CompletedProcess[str] | None, error: str | None = None) -> Outcome:
    if result is None:
        return Outcome(case, "setup failed", 0, False, False, (error or "")[:PRINTED])
    lines = result.stderr.strip().splitlines()
    everything = result.stdout + result.stderr
    one = len(lines) == 1 and lines[0].startswith("pgparity: ") and not result.stdout.strip()
    lint = (len(lines) > 1 and lines[-1].startswith("pgparity: ") and not result.stdout.strip()
            and all(line.startswith("migrations/") for line in lines[:-1]))
    shown = next((line for line in reversed(lines) if line.startswith("pgparity:")), lines[-1] if lines else "")
    if lint and LINT_SUMMARY.match(lines[-1]):
        shown = lines[0]  # the finding that names the file; the summary only counts them
    if not shown and result.returncode == 0:
        shown = (result.stdout.strip().splitlines() or [""])[-1]
    return Outcome(case, result.returncode, len(lines), one, any(secret in everything for secret in SECRETS),
                   shown[:PRINTED], result.stderr, lint)


def replay(case: Case, root: Path, env: dict[str, str]) -> Outcome:
    folder = Folder(root, {**env})
    case = replace(case, extra={key: value.replace("{port}", env["PGPARITY_PORT"]) for key, value in case.extra.items()})
    try:
        case.setup(folder)
    except Exception as error:  # a setup that no longer fits the code is reported as such, not hidden
        return outcome(case, None, f"{type(error).__name__}: {error}")
    try:
        result = (case.runner or (lambda f, c: f.run(*c.args, extra=c.extra)))(folder, case)
    except subprocess.TimeoutExpired:
        return Outcome(case, f"timeout {TIMEOUT}s", 0, False, False, "")
    return outcome(case, result)


def fresh(parent: Path, number: str) -> Path:
    root = parent / number
    if root.exists():
        shutil.rmtree(root)
    root.mkdir()
    return root


def prepare_server(port: int) -> None:
    """The roles and databases the server cases use: nc_app (B50) and a production database read by a
    read-only role that may not read one sequence (B109), next to a weirdly named one (B96, B97)."""
    import psycopg
    from psycopg import sql

    admin = dict(host="127.0.0.1", port=port, user="postgres", password=DEV_SECRET, autocommit=True)
    with psycopg.connect(dbname="postgres", **admin) as conn:
        conn.execute("CREATE ROLE nc_app")
        conn.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(sql.Identifier(PROD_USER),
                                                                        sql.Literal(PROD_SECRET)))
        for name in (PROD_DATABASE, "Weird-DB 'x' ü"):
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    with psycopg.connect(dbname=PROD_DATABASE, **admin) as conn:
        conn.execute("CREATE TABLE items (id serial PRIMARY KEY, qty int NOT NULL)")
        conn.execute("INSERT INTO items (qty) SELECT g FROM generate_series(1, 50) g")
        conn.execute(sql.SQL("GRANT USAGE ON SCHEMA public TO {0}; GRANT SELECT ON items TO {0}").format(
            sql.Identifier(PROD_USER)))


def print_table(outcomes: Sequence[Outcome], skipped: Sequence[str], seconds: float) -> None:
    print("| # | case | command | rc | one line? | printed |")
    print("|---|---|---|---|---|---|")
    for item in outcomes:
        one = "yes" if item.one_line else (f"yes, after {item.stderr_lines - 1} lint line(s)" if item.lint
                                           else f"no ({item.stderr_lines} lines)")
        if item.leaked:
            one += ", SECRET SHOWN"
        if not item.good:
            one += " ✗"
        printed = item.printed.replace("|", "\\|")
        command = " ".join(item.case.args).replace("|", "\\|")
        print(f"| {item.case.number} | {item.case.title} | {command} | {item.rc} | {one} | `{printed}` |")
    good = sum(item.good for item in outcomes)
    leaks = sum(item.leaked for item in outcomes)
    print(f"\nTotal {len(outcomes)} cases: {good} as expected (one `pgparity:` line and exit 2, or exit 0 where the "
          f"input is accepted), {len(outcomes) - good} not; secrets shown: {leaks}; {seconds:.0f} s.")
    for note in skipped:
        print(f"- {note}")
    unexpected = [item for item in outcomes if not item.good]
    if unexpected:
        print("\nWhat the cases not as expected printed on stderr:\n")
    for item in unexpected:
        print(f"- {item.case.number} (rc {item.rc}, expected {item.case.expected}):")
        for line in item.stderr.strip().splitlines()[:6]:
            print(f"    {line[:400]}")


SKIPPED = (
    "Not replayed: B28 (a warning, like B52), B88-B90 (restarts, which tests/container/test_engine.py covers), "
    "B80 (needs a real dump, minutes), B92/B93 (a foreign container), B103/B104 (a fresh volume each), B106 (a "
    "second major), B107/B108 (bench/kills.py kills commands), B110 (a 29 MB file, minutes).",
)


def main(chosen: Sequence[str]) -> int:
    """Every case, or only those numbered on the command line (B12, which starts the dev server, comes along)."""
    wanted = set(chosen) | ({"B12"} if chosen else set())
    no_server = [case for case in NO_SERVER if not wanted or case.number in wanted]
    with_server = [case for case in SERVER if not wanted or case.number in wanted]
    image = find_image()
    run_id = uuid.uuid4().hex[:8]
    dev_project = f"pgp-test-bi-{run_id}"
    config_project = f"pgp-test-bi-{run_id}-files"  # the cases without a server create nothing, normally
    projects = [config_project, dev_project]
    started = time.monotonic()
    outcomes: list[Outcome] = []
    with tempfile.TemporaryDirectory(prefix="pgparity-bad-inputs-") as scratch:
        parent = Path(scratch)
        try:
            for case in no_server:
                env = base_env(config_project, image, free_port(), "s3cret-pw")
                outcomes.append(replay(case, fresh(parent, case.number), env))
                progress(f"{case.number}: rc {outcomes[-1].rc}")
            dev_env = base_env(dev_project, image, free_port(), DEV_SECRET)
            for case in with_server:
                outcomes.append(replay(case, fresh(parent, case.number), dev_env))
                progress(f"{case.number}: rc {outcomes[-1].rc}")
                if case.number == "B12":
                    if outcomes[-1].rc != 0:
                        progress("the dev server did not start; the other server cases are not run")
                        break
                    prepare_server(int(dev_env["PGPARITY_PORT"]))
        finally:
            for project in projects:
                remove_labelled(f"{LABEL}={project}")
    print_table(outcomes, SKIPPED, time.monotonic() - started)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
