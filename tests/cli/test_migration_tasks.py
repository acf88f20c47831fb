"""db.new, db.rollback and db.seed through the command line: what they write and run, and each refusal as one
line naming its culprit."""

from __future__ import annotations

import os

import psycopg
import pytest
from commands import ok, one_error_line, write
from conftest import Project

from pgparity.errors import PgParityError
from pgparity.migrations import formats
from pgparity.migrations.discovery import layout


@pytest.fixture
def folder(tmp_path) -> Project:
    """A project folder for tasks that never reach Docker."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PGPARITY_")}
    env.update(PGPARITY_PROJECT="tasks", PGPARITY_PASSWORD="s3cret-pw")
    return Project("tasks", tmp_path, env)


def names(project: Project) -> list[str]:
    return sorted(path.name for path in (project.root / "migrations").iterdir())


def test_new_writes_the_first_migration_of_an_empty_project_without_a_rollback(folder):
    assert ok(folder, "db.new", "create_users") == "wrote migrations/001_create_users.sql\n"
    assert names(folder) == ["001_create_users.sql"]


@pytest.mark.parametrize("existing, created", [
    (["0007_a.sql", "0007_a_rollback.sql"], ["0008_add_email.sql", "0008_add_email_rollback.sql"]),
    (["9_a.sql", "9_a.down.sql", "10_b.sql"], ["11_add_email.sql", "11_add_email.down.sql"]),
])
def test_new_follows_the_projects_numbering_and_rollback_style(folder, existing, created):
    write(folder, dict.fromkeys(existing, "select 1;\n"))
    out = ok(folder, "db.new", "add_email")
    assert out == f"wrote migrations/{created[0]} and migrations/{created[1]}\n"
    assert names(folder) == sorted(existing + created)
    assert (folder.root / "migrations" / created[0]).read_text() == "-- add_email: this migration's SQL.\n"


@pytest.mark.parametrize("name", ["a/b", "..", "", "../x", "a.b", "a\\b"])
def test_new_refuses_a_name_that_is_not_a_file_names_part(folder, name):
    line = one_error_line(folder.run("db.new", name))
    assert line == f"pgparity: NAME must be letters, digits, '_' or '-' (the file is NNN_<name>.sql), not {name!r}"
    assert not (folder.root / "migrations").exists()


def test_a_new_file_never_replaces_one_that_appeared_meanwhile(tmp_path):
    (tmp_path / "001_a.sql").write_text("select 1;\n")
    (tmp_path / "001_a.down.sql").write_text("select 1;\n")
    fmt, files = layout(tmp_path)
    outputs = fmt.new(tmp_path, files, "x", "-- x\n", "-- undo\n")
    outputs[-1].path.write_text("select 2;\n")  # another process took the number between naming and writing
    with pytest.raises(PgParityError, match="002_x.sql exists already; nothing written"):
        formats.write(outputs)
    assert outputs[-1].path.read_text() == "select 2;\n" and not outputs[0].path.exists()


# --- with the engine -------------------------------------------------------------------------

STACK = {"001_a.sql": "create table a (id int);\n", "001_a.down.sql": "drop table a;\n",
         "002_b.sql": "create table b (id int);\n", "002_b.down.sql": "drop table b;\n",
         "003_c.sql": "create table c (id int);\n", "003_c.down.sql": "drop table c;\n"}


def state(project: Project) -> tuple[list[int], list[str]]:
    with psycopg.connect(project.url()) as conn:
        versions = [v for (v,) in conn.execute("select version::bigint from pgparity.schema_migrations order by 1")]
        tables = [t for (t,) in conn.execute("select tablename from pg_tables where schemaname = 'public' order by 1")]
    return versions, tables


def test_rollback_undoes_the_last_migrations_newest_first_and_they_are_pending_again(proj):
    write(proj, STACK)
    ok(proj, "db.sync")
    out = ok(proj, "db.rollback")
    assert "rolled back 003_c.sql with migrations/003_c.down.sql" in out
    assert state(proj) == ([1, 2], ["a", "b"])
    out = ok(proj, "db.rollback", "--steps", "2")
    assert out.index("002_b.sql") < out.index("001_a.sql") and "2 migration(s) rolled back" in out
    assert state(proj) == ([], [])
    line = one_error_line(proj.run("db.rollback"))
    assert line == "pgparity: --steps 1 is more than the 0 migrations applied to app"
    assert "3 migrations applied" in ok(proj, "db.migrate")
    assert state(proj) == ([1, 2, 3], ["a", "b", "c"])
    ok(proj, "db.rollback")
    synced = ok(proj, "db.sync")  # the template holds every migration still: a rollback changes dev alone
    assert "cache hit" in synced and state(proj) == ([1, 2, 3], ["a", "b", "c"])


@pytest.mark.parametrize("files, culprit", [
    ({"003_c.down.sql": None}, "pgparity: migrations/003_c.sql has no rollback: expected 003_c.down.sql or "
                               "003_c_rollback.sql beside it"),
    ({"003_c.down.sql": "-- Destructive, commented out below\n-- DROP TABLE \"public\".\"c\";\n"},
     "pgparity: migrations/003_c.down.sql:2: DROP TABLE is commented out, so this rollback would not undo "
     "003_c.sql"),
    ({}, "pgparity: --steps 4 is more than the 3 migrations applied to app"),
])
def test_rollback_refuses_before_running_anything(proj, files, culprit):
    write(proj, STACK)
    ok(proj, "db.sync")
    for name, text in files.items():
        path = proj.root / "migrations" / name
        path.unlink() if text is None else path.write_text(text)
    line = one_error_line(proj.run("db.rollback", "--steps", "4" if not files else "2"))
    assert line.startswith(culprit)
    assert state(proj) == ([1, 2, 3], ["a", "b", "c"])


def test_rollback_steps_must_be_a_positive_number(proj):
    assert "--steps must be at least 1, got 0" in one_error_line(proj.run("db.rollback", "--steps", "0"))


def seeded(project: Project) -> list[str]:
    with psycopg.connect(project.url()) as conn:
        return [name for (name,) in conn.execute("select name from people order by name")]


def test_seed_runs_after_sync_outside_the_template_and_on_its_own(proj):
    write(proj, {"001_people.sql": "create table people (name text primary key);\n"})
    (proj.root / "pgparity.toml").write_text('[seed]\npath = "seeds"\n')
    seeds = proj.root / "seeds"
    seeds.mkdir()
    (seeds / "01_people.sql").write_text("insert into people values ('ada');\n")
    out = ok(proj, "db.sync")
    assert "seeded app from seeds (1 file)" in out and seeded(proj) == ["ada"]
    (seeds / "02_more.sql").write_text("insert into people values ('grace') on conflict do nothing;\n")
    out = ok(proj, "db.sync")
    assert "cache hit" in out and "(2 files)" in out and seeded(proj) == ["ada", "grace"]
    with psycopg.connect(proj.url("postgres")) as conn:
        templates = [n for (n,) in conn.execute("select datname from pg_database where datname like 'pgparity_template_%'")]
    counted = []
    for template in templates:  # the module's other tests leave templates of their own migrations
        with psycopg.connect(proj.url(template)) as conn:
            if conn.execute("select to_regclass('public.people')").fetchone() != (None,):
                counted += conn.execute("select count(*) from people").fetchone()
    assert counted == [0]
    (seeds / "01_people.sql").write_text("insert into people values ('ada') on conflict do nothing;\n")
    with psycopg.connect(proj.url(), autocommit=True) as conn:
        conn.execute("delete from people where name = 'grace'")
    assert "seeded app from seeds (2 files)" in ok(proj, "db.seed")
    assert seeded(proj) == ["ada", "grace"]


def test_a_failing_seed_names_its_file_and_line_and_leaves_dev_as_it_was(proj):
    write(proj, {"001_people.sql": "create table people (name text primary key);\n"})
    (proj.root / "pgparity.toml").write_text('[seed]\npath = "seed.sql"\n')
    (proj.root / "seed.sql").write_text("insert into people values ('ada');\n")
    ok(proj, "db.sync")
    (proj.root / "seed.sql").write_text("insert into people values ('ada') on conflict do nothing;\n\n"
                                        "insert into nowhere values (1);\n")
    line = one_error_line(proj.run("db.sync"))
    assert line.startswith('pgparity: seed.sql:3: relation "nowhere" does not exist')
    assert seeded(proj) == ["ada"]
    assert one_error_line(proj.run("db.seed")).startswith('pgparity: seed.sql:3: relation "nowhere"')
    (proj.root / "pgparity.toml").write_text('[seed]\npath = "absent"\n')
    assert one_error_line(proj.run("db.seed")) == "pgparity: absent: seed not found ([seed] path in pgparity.toml names it)"
    (proj.root / "pgparity.toml").write_text("")
    assert one_error_line(proj.run("db.seed")) == ("pgparity: pgparity.toml: no [seed] path; name a .sql file or a "
                                                   "folder of them")
