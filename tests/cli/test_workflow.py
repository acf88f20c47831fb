"""The team workflow: the pre-push hook, side-by-side worktrees, status --all, doctor."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

import docker.errors
import psycopg
import pytest
from commands import one_error_line
from conftest import Project, project_env, remove_project

from pgparity import config
from pgparity.cli import doctor
from pgparity.container.engine import discard
from pgparity.container.oneoff import CLIENT_LABEL, OneOff


def git(cwd: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(["git", "-c", "user.email=dev@example.com", "-c", "user.name=dev", *args], cwd=cwd,
                          env=env, capture_output=True, text=True)


def test_hook_install_refuses_foreign_hook_and_uninstall_keeps_it(project):
    git(project.root, "init", "-q", "-b", "main")
    hook = project.root / ".git" / "hooks" / "pre-push"
    hook.write_text("#!/bin/sh\necho mine\n")
    refused = project.run("db.hook", "--install")
    assert refused.returncode == 2 and "not written by pgparity; pass --force" in refused.stderr
    assert hook.read_text() == "#!/bin/sh\necho mine\n"
    assert project.run("db.hook", "--uninstall").returncode == 2 and hook.exists()
    forced = project.run("db.hook", "--install", "--force")
    assert forced.returncode == 0 and "db.verify" in hook.read_text() and os.access(hook, os.X_OK)
    removed = project.run("db.hook", "--uninstall")
    assert removed.returncode == 0 and not hook.exists()
    assert project.run("db.hook").returncode == 2


def pushed_main(project, migration: str) -> Path:
    """A repository with one migration synced, the pre-push hook installed and main pushed to a bare remote."""
    remote = project.root.parent / f"{project.name}-remote.git"
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
    (project.root / "migrations").mkdir()
    (project.root / "migrations" / "001_users.sql").write_text(migration)
    git(project.root, "init", "-q", "-b", "main")
    git(project.root, "remote", "add", "origin", str(remote))
    assert project.run("db.sync").returncode == 0
    assert project.run("db.hook", "--install").returncode == 0
    git(project.root, "add", "migrations")
    git(project.root, "commit", "-q", "-m", "users")
    pushed = git(project.root, "push", "-q", "origin", "main", env=project.env)
    assert pushed.returncode == 0, pushed.stderr
    return remote


def test_hook_blocks_a_push_with_drift(project):
    remote = pushed_main(project, "create table users (id int primary key, email varchar);")

    with psycopg.connect(project.url()) as conn:
        conn.execute("alter table users add column nickname text")
    git(project.root, "commit", "-q", "--allow-empty", "-m", "more")
    blocked = git(project.root, "push", "-q", "origin", "main", env=project.env)
    assert blocked.returncode != 0
    assert "nickname" in blocked.stdout + blocked.stderr
    remote_head = subprocess.run(["git", "-C", str(remote), "rev-parse", "main"], capture_output=True, text=True)
    local_first = git(project.root, "rev-parse", "main~1")
    assert remote_head.stdout == local_first.stdout


def test_two_worktrees_run_side_by_side(tmp_path, docker_client, test_image):
    repo = tmp_path / "shop"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    git(repo, "commit", "-q", "--allow-empty", "-m", "start")
    git(repo, "worktree", "add", "-q", "-b", "feature", str(tmp_path / "shop-feature"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("PGPARITY_")}
    env.update(PGPARITY_IMAGE=test_image, PGPARITY_PASSWORD="pw")
    folders = [repo, tmp_path / "shop-feature"]
    names = [config.load(folder, environ=env).project for folder in folders]
    assert names == [f"shop-{config.path_hash(repo)}", f"shop-feature-{config.path_hash(folders[1])}"]
    try:
        for folder in folders:
            up = subprocess.run([sys.executable, "-m", "pgparity", "db.up"], cwd=folder, env=env,
                                capture_output=True, text=True, timeout=180)
            assert up.returncode == 0, up.stderr
        states = json.loads(subprocess.run([sys.executable, "-m", "pgparity", "db.status", "--all", "--json"],
                                           cwd=repo, env=env, capture_output=True, text=True).stdout)
        ours = {s["project"]: s for s in states if s["project"] in names}
        assert set(ours) == set(names)
        assert len({s["port"] for s in ours.values()}) == 2 and len({s["volume"] for s in ours.values()}) == 2
        assert all(s["state"] == "running" for s in ours.values())
    finally:
        for name in names:
            remove_project(docker_client, name)


@pytest.fixture
def unnamed(tmp_path, docker_client, test_image, image_repository) -> Project:
    """A project folder without PGPARITY_PROJECT, so its environment takes the default name (`pgp-test-…-<hash>`)."""
    root = tmp_path / f"pgp-test-{uuid.uuid4().hex[:8]}"
    root.mkdir()
    env = project_env("-", test_image, image_repository)
    del env["PGPARITY_PROJECT"]
    name = config.default_project(root)
    yield Project(name, root, env)
    remove_project(docker_client, name)


def ours(docker_client, project: Project) -> list:
    """The pgparity containers made for this project's folder, whatever name they were given."""
    return [c for c in docker_client.containers.list(all=True, filters={"label": "pgparity.project"})
            if c.labels["pgparity.project"].startswith(project.root.name)]


def test_two_branches_of_one_worktree_share_one_environment(unnamed, docker_client):
    pushed_main(unnamed, "create table users (id int primary key);")
    [container] = ours(docker_client, unnamed)

    # A new branch without a schema change: the same container, so its push passes (PGPARITY_PORT is pinned).
    git(unnamed.root, "checkout", "-q", "-b", "feature/login")
    git(unnamed.root, "commit", "-q", "--allow-empty", "-m", "copy only")
    verified = unnamed.run("db.verify")
    assert verified.returncode == 0, verified.stderr
    pushed = git(unnamed.root, "push", "-q", "origin", "feature/login", env=unnamed.env)
    assert pushed.returncode == 0, pushed.stderr
    assert [c.id for c in ours(docker_client, unnamed)] == [container.id]
    git(unnamed.root, "checkout", "-q", "--detach")
    assert unnamed.run("db.verify").returncode == 0
    assert [c.id for c in ours(docker_client, unnamed)] == [container.id]


def test_verify_and_the_hook_never_create_an_environment(project, docker_client):
    remote = project.root.parent / f"{project.name}-remote.git"
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
    (project.root / "migrations").mkdir()
    (project.root / "migrations" / "001_users.sql").write_text("create table users (id int primary key);")
    label = {"label": f"pgparity.project={project.name}"}

    line = one_error_line(project.run("db.verify"))
    assert line.startswith(f"pgparity: no dev environment for this worktree (no container {project.name}-db-1)")
    assert "db.verify does not create one" in line and "`invoke db.up`, then `invoke db.sync`" in line
    assert one_error_line(project.run("db.verify", "--json")) == line

    git(project.root, "init", "-q", "-b", "main")
    git(project.root, "remote", "add", "origin", str(remote))
    assert project.run("db.hook", "--install").returncode == 0
    git(project.root, "add", "migrations")
    git(project.root, "commit", "-q", "-m", "users")
    blocked = git(project.root, "push", "-q", "origin", "main", env=project.env)
    assert blocked.returncode != 0 and line in blocked.stderr.splitlines()
    assert "pgparity: push blocked: db.verify failed (see above)" in blocked.stderr
    assert docker_client.containers.list(all=True, filters=label) == []
    assert docker_client.volumes.list(filters=label) == []

    # A stopped container is this worktree's own: verify starts it, as db.up would.
    assert project.run("db.sync").returncode == 0
    docker_client.containers.get(f"{project.name}-db-1").stop(timeout=10)
    verified = project.run("db.verify")
    assert verified.returncode == 0, verified.stderr


def test_down_all_lists_and_removes_only_your_own(docker_client, test_image, image_repository):
    me, someone = f"pgp-test-me-{uuid.uuid4().hex[:6]}", f"pgp-test-other-{uuid.uuid4().hex[:6]}"
    as_me, as_someone = {"USER": me, "LOGNAME": me}, {"USER": someone, "LOGNAME": someone}
    with tempfile.TemporaryDirectory(prefix="pgp-") as folder:  # short paths: the listing's rows stay one line
        project, theirs = (Project(f"pgp-test-{uuid.uuid4().hex[:8]}", Path(folder) / side,
                                   project_env("-", test_image, image_repository)) for side in ("mine", "theirs"))
        for each in (project, theirs):
            each.env["PGPARITY_PROJECT"] = each.name
            each.root.mkdir()
        _down_all_leaves_others_alone(docker_client, test_image, project, theirs, me, someone, as_me, as_someone)


def _down_all_leaves_others_alone(docker_client, test_image, project, theirs, me, someone, as_me, as_someone):
    leftover = None
    try:
        assert project.run("db.up", extra=as_me).returncode == 0
        assert theirs.run("db.up", extra=as_someone).returncode == 0
        with pytest.MonkeyPatch.context() as patch:  # a pg_dump client a killed dump left behind
            for name, value in as_me.items():
                patch.setenv(name, value)
            leftover = OneOff(docker_client, test_image, "pg_dump", {CLIENT_LABEL: project.name}).__enter__()

        states = {s["project"]: s for s in json.loads(project.run("db.status", "--all", "--json").stdout)}
        assert (states[project.name]["user"], states[project.name]["folder"]) == (me, str(project.root.resolve()))
        assert (states[theirs.name]["user"], states[theirs.name]["folder"]) == (someone, str(theirs.root.resolve()))
        table = project.run("db.status", "--all").stdout
        header = next(line for line in table.splitlines() if "Environment" in line)  # ASCII: not a terminal
        assert ["User", "Folder"] == [column.strip() for column in header.split("|")[-3:-1]]

        refused = project.run("db.down", "--all", "--volumes", extra=as_me)
        assert refused.returncode == 2 and "pass --yes" in refused.stderr
        listed = [line for line in refused.stdout.splitlines() if me in line]
        assert len(listed) == 2 and all(project.name in line for line in listed)
        assert any("pg_dump client" in line for line in listed)
        assert any(f"{project.name}_data" in line and "running" in line for line in listed)
        assert theirs.name not in refused.stdout and "left alone: " in refused.stdout
        assert "--everyone includes them" in refused.stdout
        assert docker_client.containers.get(f"{project.name}-db-1").status == "running"

        removed = project.run("db.down", "--all", "--volumes", "--yes", extra=as_me)
        assert removed.returncode == 0, removed.stderr
        assert f"removed container {project.name}-db-1, volume {project.name}_data" in removed.stdout
        assert f"removed pg_dump client {leftover.container.name}" in removed.stdout
        mine = {"label": f"pgparity.user={me}"}
        assert docker_client.containers.list(all=True, filters=mine) == []
        assert docker_client.volumes.list(filters=mine) == []
        assert docker_client.containers.get(f"{theirs.name}-db-1").status == "running"
        assert project.run("db.down", "--everyone").returncode == 2
    finally:
        remove_project(docker_client, project.name)
        remove_project(docker_client, theirs.name)
        if leftover is not None:
            try:
                discard(leftover.container)
            except docker.errors.NotFound:
                pass


def test_doctor_reports_each_check_with_a_hint(project):
    (project.root / "migrations").mkdir()
    (project.root / "migrations" / "001_a.sql").write_text("create table a (id int);")
    healthy = project.run("db.doctor")
    assert healthy.returncode == 0, healthy.stdout
    for name in ("configuration", "docker", "image", "port", "production profile", "migrations", "disk space"):
        assert f" {name}: " in healthy.stdout
    assert "! production profile:" in healthy.stdout and "invoke db.snapshot --from prod" in healthy.stdout

    (project.root / "migrations" / "002_b.sql").write_text("\\i other.sql\n")
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", int(project.env["PGPARITY_PORT"])))
        listener.listen()
        broken = project.run("db.doctor")
    assert broken.returncode == 2
    assert f"✗ port: 127.0.0.1:{project.env['PGPARITY_PORT']} is taken by another process — stop" in broken.stdout
    assert "✗ migrations: 2 lint errors; first: migrations/002_b.sql" in broken.stdout

    bad = project.run("db.doctor", extra={"PGPARITY_PORT": "x"})
    assert bad.returncode == 2 and "✗ configuration: environment: PGPARITY_PORT" in bad.stdout


def test_hook_checks_the_pushed_commit_not_the_working_tree(project):
    remote = project.root.parent / f"{project.name}-remote.git"
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
    migrations = project.root / "migrations"
    migrations.mkdir()
    (migrations / "001_users.sql").write_text("create table users (id int primary key);")
    git(project.root, "init", "-q", "-b", "main")
    git(project.root, "remote", "add", "origin", str(remote))
    assert project.run("db.sync").returncode == 0
    assert project.run("db.hook", "--install").returncode == 0
    hook = (project.root / ".git" / "hooks" / "pre-push").read_text()
    assert "--revision" in hook and '"$root/.venv/bin/python"' in hook
    git(project.root, "add", "migrations")
    git(project.root, "commit", "-q", "-m", "users")

    # Work in progress the dev database lacks: not in the pushed commit, so not in the check.
    (migrations / "002_wip.sql").write_text("alter table users add column wip text;")
    pushed = git(project.root, "push", "-q", "origin", "main", env=project.env)
    assert pushed.returncode == 0, pushed.stderr
    assert project.run("db.verify").returncode == 1  # the working tree itself does drift

    git(project.root, "add", "migrations")
    git(project.root, "commit", "-q", "-m", "wip")
    blocked = git(project.root, "push", "-q", "origin", "main", env=project.env)
    assert blocked.returncode != 0
    assert "pgparity: push blocked by drift: run `invoke db.fix` (production) or `invoke db.sync` (local)" \
        in blocked.stderr.splitlines()[-2]
    assert "git push --no-verify" in blocked.stderr


def test_doctor_fails_when_the_secrets_file_or_the_report_could_be_committed(tmp_path):
    git(tmp_path, "init", "-q", "-b", "main")
    settings = config.load(tmp_path, environ={})
    check = doctor._secrets(settings)
    assert (check.state, check.detail) == ("fail", ".env.local, pgparity-report.json not ignored by git")
    assert "add .env.local and pgparity-report.json to .gitignore" in check.hint
    (tmp_path / ".gitignore").write_text(".env.local\npgparity-report.json\n")
    assert doctor._secrets(settings).state == "ok"
