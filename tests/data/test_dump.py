"""db.dump and restore against real servers: production is a database seeded with PII, read-only."""

from __future__ import annotations

import dataclasses
import json
import re
import subprocess
import sys
import time
import tomllib
import uuid
import zipfile
from contextlib import closing
from pathlib import Path

import psycopg
import pytest
import zstandard
from conftest import scratch_database
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from pgparity.config import ProductionPolicy
from pgparity.container.oneoff import Finished
from pgparity.data import dump as dumping
from pgparity.data.archive import FORMAT, verify_archive
from pgparity.data.extract import Extractor, begin_snapshot, part_file, plan_part
from pgparity.data.passwords import dev_password_hash
from pgparity.data.pgdump import CLIENT_LABEL, client_network, dump_schema, pg_dump_command, plain_sql
from pgparity.data.progress import TableReport
from pgparity.data.restore import RestoreReport, restore
from pgparity.data.sanitize import ID_FORMATS, Column, ColumnName, TableName, parse_rules
from pgparity.data.subset import TID_RANGE_SCANS, Subset, part_count
from pgparity.data.tables import ForeignKey, SourceTable, read_tables
from pgparity.data.transformers import FIRST_NAMES, LAST_NAMES, IdFormat
from pgparity.errors import DumpError, SanitizeError
from pgparity.migrations import ledger
from pgparity.migrations.discovery import discover
from pgparity.migrations.model import MigrationPolicy
from pgparity.migrations.position import locate
from pgparity.migrations.sync import Quiet, replay
from pgparity.schema.introspect import inspect

SECRET = b"dump-test-secret-0123456789"
OTHER_SECRET = b"dump-test-other-secret-987654"
TOML = Path("pgparity.toml")


# ------------------------------------------------------------------------------ without a server

@pytest.mark.parametrize("url, expected", [
    ("postgresql://u:p@127.0.0.1:5432/db", {"network_mode": "host"}),
    ("postgresql://u@localhost/db", {"network_mode": "host"}),
    ("postgresql://u@[::1]:5433/db", {"network_mode": "host"}),
    ("postgresql://u@db.internal.example.com:5432/db", {}),
    ("postgresql://u@10.1.2.3/db?sslmode=require", {}),
])
def test_a_loopback_production_is_reached_through_the_host_network(url, expected):
    assert client_network(url, "127.0.0.1") == expected


def test_unreachable_production_addresses_are_refused():
    with pytest.raises(DumpError, match="Unix socket"):
        client_network("postgresql://u:secret@/db?host=/var/run/postgresql", "127.0.0.1")
    with pytest.raises(DumpError, match="Docker runs on docker.example.com") as caught:
        client_network("postgresql://u:secret@127.0.0.1/db", "docker.example.com")
    assert "secret" not in str(caught.value)
    assert client_network("postgresql://u@db.example.com/db", "docker.example.com") == {}


def test_pg_dump_runs_read_only_in_the_snapshot_without_the_password_in_argv():
    argv, environment = pg_dump_command(
        "postgresql://owner:s3cret@127.0.0.1:6543/prod?options=-c%20work_mem%3D64MB", "pre-data", "0000-1")
    assert environment == {"PGPASSWORD": "s3cret"} and not any("s3cret" in arg for arg in argv)
    assert argv[:3] == ["pg_dump", "--section=pre-data", "--snapshot=0000-1"]
    conninfo = conninfo_to_dict(argv[-1].removeprefix("--dbname="))
    assert conninfo["options"] == "-c work_mem=64MB -c default_transaction_read_only=on"
    assert (conninfo["host"], conninfo["port"], conninfo["dbname"]) == ("127.0.0.1", "6543", "prod")
    assert "--no-owner" in argv and "--no-privileges" not in argv  # grants are restored, owners are not


def test_psql_restrict_guards_are_removed_and_nothing_else():
    script = (b"--\n\\restrict Abc123\n\nSET x = 1;\nSELECT '\\restrict other';\n"
              b"\\restrict other\n\\unrestrict Abc123\n")
    assert plain_sql(script) == b"--\n\nSET x = 1;\nSELECT '\\restrict other';\n\\restrict other\n"
    assert plain_sql(b"SET x = 1;\n") == b"SET x = 1;\n"


def test_a_failing_tool_is_told_by_its_error_lines_with_their_details_not_its_last_line():
    mismatch = Finished(1, b"", b"pg_dump: error: aborting because of server version mismatch\n"
                                b"pg_dump: detail: server version: 17.12; pg_dump version: 15.18\n")
    assert mismatch.errors() == ("pg_dump: error: aborting because of server version mismatch | "
                                 "pg_dump: detail: server version: 17.12; pg_dump version: 15.18")
    query = Finished(1, b"", b"pg_dump: warning: x\npg_dump: error: query failed: ERROR:  permission denied\n"
                             b"pg_dump: detail: Query was: SELECT 1\n")
    assert query.errors().startswith("pg_dump: error: query failed") and "warning" not in query.errors()
    detail_first = Finished(1, b"", b"pg_dump: detail: Query was: SELECT last_value, is_called FROM s\n"
                                    b"pg_dump: error: query failed: ERROR:  permission denied for sequence s\n")
    assert detail_first.errors() == ("pg_dump: error: query failed: ERROR:  permission denied for sequence s | "
                                     "pg_dump: detail: Query was: SELECT last_value, is_called FROM s")
    continued = Finished(1, b"", b"pg_dump: error: query failed: server closed the connection unexpectedly\n"
                                 b"\tThis probably means the server terminated abnormally\n"
                                 b"pg_dump: detail: Query was: SELECT last_value FROM s\n")
    assert continued.errors() == ("pg_dump: error: query failed: server closed the connection unexpectedly This "
                                  "probably means the server terminated abnormally | "
                                  "pg_dump: detail: Query was: SELECT last_value FROM s")
    assert Finished(1, b"", b"one\nlast words\n").errors() == "last words"
    assert Finished(1, b"", b"").errors() == "(no output)"


def table(name: str, *foreign_keys: ForeignKey, key: tuple[str, ...] = ("id",)) -> SourceTable:
    table_name = TableName("public", name)
    columns = tuple(Column(ColumnName(table_name, column), "bigint", False, True, False)
                    for column in ("id", *(c for fk in foreign_keys for c in fk.columns)))
    return SourceTable(table_name, columns, key, foreign_keys, pages=100)


def fk(column: str, parent: str) -> ForeignKey:
    return ForeignKey((column,), TableName("public", parent), ("id",))


def statements(tables: list[SourceTable], table_rules: dict, parts: int = 1) -> dict[str, tuple[str | None, str]]:
    subset = Subset(tables, parse_rules({"tables": table_rules}, TOML))
    chosen = (subset.selection(t, parts) for t in tables)
    return {s.table.name.name: (" | ".join(q.as_string(None) for q in s.statements) or None, s.subset) for s in chosen}


def test_a_table_dumped_whole_is_read_in_ranges_of_its_pages_and_a_subset_in_one_piece():
    tables = [table("users"), table("orders", fk("user_id", "users"))]
    chosen = statements(tables, {"public.orders": {"limit": 10}}, parts=3)
    assert chosen["users"][0].split(" | ") == [
        'COPY (SELECT "id" FROM "public"."users" WHERE ctid < \'(34,0)\'::tid) TO STDOUT',
        'COPY (SELECT "id" FROM "public"."users" WHERE ctid >= \'(34,0)\'::tid AND ctid < \'(68,0)\'::tid) TO STDOUT',
        'COPY (SELECT "id" FROM "public"."users" WHERE ctid >= \'(68,0)\'::tid) TO STDOUT']
    assert " | " not in chosen["orders"][0] and "LIMIT 10" in chosen["orders"][0]
    assert part_count(SourceTable(TableName("public", "t"), (), (), (), pages=9000), 150000) == 3
    assert part_count(SourceTable(TableName("public", "t"), (), (), (), pages=9000), 130000) == 1


def test_capping_a_parent_drops_children_of_rows_it_left_out():
    tables = [table("users"), table("orders", fk("user_id", "users")), table("items", fk("order_id", "orders"))]
    chosen = statements(tables, {"public.orders": {"limit": 10}})
    assert chosen["users"] == ('COPY "public"."users" ("id") TO STDOUT', "all rows")
    orders, items = chosen["orders"][0], chosen["items"][0]
    assert 'SELECT * FROM "public"."orders" ORDER BY "id" LIMIT 10' in orders and '"users"' not in orders
    assert '("order_id" IS NULL OR ("order_id") IN (SELECT "id" FROM "kept_1"))' in items
    assert items.index('"kept_1" AS') < items.index('"kept_2" AS')
    assert chosen["items"][1] == "only rows referencing kept rows of public.orders"


def test_excluding_a_parent_keeps_only_children_referencing_nothing():
    tables = [table("audit_log"), table("notes", fk("audit_id", "audit_log"))]
    chosen = statements(tables, {"public.audit_log": {"exclude": True}})
    assert chosen["audit_log"] == (None, "excluded")
    assert 'SELECT * FROM "public"."audit_log" WHERE false' in chosen["notes"][0]


def test_a_where_without_a_primary_key_limits_in_physical_order():
    chosen = statements([table("events", key=())], {"public.events": {"where": "id > 5", "limit": 3}})
    assert 'WHERE (id > 5) ORDER BY ctid LIMIT 3' in chosen["events"][0]
    assert chosen["events"][1] == "where id > 5 limit 3"


def test_subsets_through_foreign_key_cycles_are_refused():
    with pytest.raises(SanitizeError, match="cycle public.employees → public.employees"):
        statements([table("employees", fk("manager_id", "employees"))], {"public.employees": {"limit": 5}})
    cycle = [table("teams"), table("a", fk("team_id", "teams"), fk("b_id", "b")), table("b", fk("a_id", "a"))]
    with pytest.raises(SanitizeError, match=r"cycle public\.(a|b) → public\.(a|b) → public\.(a|b)"):
        statements(cycle, {"public.teams": {"where": "true"}})
    assert statements([table("employees", fk("manager_id", "employees"))], {})["employees"][1] == "all rows"


# ------------------------------------------------------------------------------- against servers

MIGRATIONS = {
    "001_schema.sql": """
CREATE TABLE roles (id serial PRIMARY KEY, name text NOT NULL UNIQUE);
CREATE TABLE users (
    id bigserial PRIMARY KEY,
    email varchar(255) NOT NULL UNIQUE,
    first_name text,
    last_name text,
    phone text,
    password_hash text NOT NULL,
    notes text,
    api_key text UNIQUE,
    country text,
    plan text NOT NULL DEFAULT 'pro',
    role_id integer REFERENCES roles (id),
    last_login_ip inet,
    manager_id bigint REFERENCES users (id),
    email_domain text GENERATED ALWAYS AS (split_part(email, '@', 2)) STORED,
    created_at timestamptz NOT NULL
);
CREATE TABLE auth_tokens (id bigserial PRIMARY KEY, user_id bigint NOT NULL REFERENCES users (id),
                          token text NOT NULL UNIQUE, created_at timestamptz NOT NULL);
CREATE TABLE newsletter (email varchar(255) NOT NULL, subscribed_at timestamptz NOT NULL);
""",
    "002_orders.sql": """
CREATE TABLE orders (id bigserial PRIMARY KEY, user_id bigint NOT NULL REFERENCES users (id),
                     total numeric(10, 2) NOT NULL, shipping_address text);
CREATE TABLE order_items (id bigserial PRIMARY KEY, order_id bigint NOT NULL REFERENCES orders (id),
                          sku text NOT NULL, quantity integer NOT NULL);
CREATE TABLE events (id bigserial PRIMARY KEY, user_id bigint REFERENCES users (id), kind text NOT NULL,
                     created_at timestamptz NOT NULL);
CREATE TABLE audit_log (id bigserial PRIMARY KEY, user_id bigint REFERENCES users (id), detail text);
-- a function that writes: a rule calling it proves the dump's session cannot
CREATE FUNCTION public.write_trap() RETURNS boolean LANGUAGE sql
    AS $$ INSERT INTO public.audit_log (detail) VALUES ('written by a dump'); SELECT true $$;
""",
}
SEED_FIRST = ("Alice", "Benjamin", "Charlotte", "Daniel", "Emily", "Frederick", "Georgina", "Harriet", "Isaac",
              "Juliet", "Kevin", "Laura", "Michael", "Natalie", "Oliver", "Penelope", "Robert", "Sophie",
              "Thomas", "Victoria")
SEED_LAST = ("Smith", "Jones", "Williams", "Brown", "Taylor", "Davies", "Evans", "Wilson", "Johnson", "Roberts",
             "Walker", "Wright", "Thompson", "Whitehouse", "Hughes", "Edwards", "Greenwood", "Hall", "Woodley",
             "Harris", "Martin", "Jackson", "Clarke", "Lewis", "Robinson")
USERS = 10_000
SEED = """
INSERT INTO roles (name) VALUES ('admin'), ('member'), ('viewer');
INSERT INTO users (email, first_name, last_name, phone, password_hash, notes, api_key, country, role_id,
                   last_login_ip, created_at)
SELECT lower(f) || '.' || lower(l) || i || '@' || (ARRAY['gmail.com', 'yahoo.co.uk', 'proton.me'])[1 + i % 3],
       f, l, '+44 20 7946 ' || lpad(i::text, 5, '0'), '$2b$12$' || md5('pw' || i),
       'Called ' || f || ' ' || l || E'\\tabout invoice #' || i
           || E'\\nreach: ' || lower(f) || i || '@work.example.org',
       'sk_live_' || md5('key' || i), (ARRAY['GB', 'DE', 'FR'])[1 + i % 3], 1 + i % 3,
       ('10.' || (i / 65536) || '.' || (i / 256 % 256) || '.' || (i % 256))::inet,
       timestamptz '2024-01-01' + i * interval '1 hour'
FROM generate_series(1, {users}) AS i,
     LATERAL (SELECT ({first}::text[])[1 + i % 20] AS f, ({last}::text[])[1 + (i / 20) % 25] AS l) AS n;
INSERT INTO users (email, first_name, last_name, phone, password_hash, notes, created_at) VALUES
    ('o''brien\\dept@example.ie', NULL, 'O''Brien', NULL, 'x', E'backslash \\\\ and \\\\N and tab\\t', now()),
    ('zoë.ångström@example.se', 'Zoë', 'Ångström', '+46 8 123 456', 'x', '', now());
UPDATE users SET manager_id = id - 1 WHERE id % 10 <> 1;
INSERT INTO auth_tokens (user_id, token, created_at)
SELECT 1 + i % {users}, 'tok_' || md5('token' || i), now() FROM generate_series(1, 20000) AS i;
INSERT INTO newsletter (email, subscribed_at) SELECT email, now() FROM users WHERE id % 5 = 0;
INSERT INTO orders (user_id, total, shipping_address)
SELECT 1 + i * 7 % {users}, i % 500 + 0.99, i || ' Baker Street, London NW1 6XE' FROM generate_series(1, 5000) AS i;
INSERT INTO order_items (order_id, sku, quantity)
SELECT 1 + i % 5000, 'SKU-' || i % 97, 1 + i % 4 FROM generate_series(1, 12000) AS i;
INSERT INTO events (user_id, kind, created_at)
SELECT 1 + i % {users}, 'login', timestamptz '2024-01-01' + i * interval '50 minutes'
FROM generate_series(1, 10000) AS i;
INSERT INTO audit_log (user_id, detail) SELECT 1 + i % {users}, 'changed plan' FROM generate_series(1, 1000) AS i;
"""
RULES = {
    "columns": {
        "public.roles.name": "keep",
        "public.users.email": "email",
        "public.users.first_name": "first_name",
        "public.users.last_name": "last_name",
        "public.users.phone": "phone",
        "public.users.password_hash": "password",
        "public.users.notes": "text",
        "public.users.api_key": "hash",
        "public.users.country": "keep",
        "public.users.plan": "constant:free",
        "public.users.last_login_ip": "null",
        "public.auth_tokens.token": "hash",
        "public.newsletter.email": "email",
        "public.orders.shipping_address": "text",
    },
    "tables": {
        "public.audit_log": {"exclude": True},
        "public.events": {"where": "created_at > '2024-06-01'"},
        "public.orders": {"limit": 1000},
    },
}


class Production:
    """A seeded production database owned by a role that could write; dumps read it through that role."""

    def __init__(self, server, root: Path):
        suffix = uuid.uuid4().hex[:8]
        self.admin = server.url()
        self.database, self.role = f"prod_{suffix}", f"owner_{suffix}"
        self.root = root
        with psycopg.connect(self.admin, autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD 'owner-pw'").format(sql.Identifier(self.role)))
            conn.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(
                sql.Identifier(self.database), sql.Identifier(self.role)))
        self.url = f"postgresql://{self.role}:owner-pw@{server.host}:{server.port}/{self.database}"
        (root / "migrations").mkdir()
        for name, text in MIGRATIONS.items():
            (root / "migrations" / name).write_text(text)
        replay(self.url, self.plan().migrations, Quiet())
        with psycopg.connect(self.url) as conn:
            conn.execute(sql.SQL(SEED).format(users=USERS, first=list(SEED_FIRST), last=list(SEED_LAST)))

    def plan(self):
        return discover(self.root / "migrations", MigrationPolicy())

    def drop(self) -> None:
        with psycopg.connect(self.admin, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(self.database)))
            conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(self.role)))

    def fingerprint(self) -> dict[str, str]:
        """Every table's content, to prove nothing was written."""
        return fingerprint(self.url)


def fingerprint(url: str) -> dict[str, str]:
    """A hash of every table's rows, in any order."""
    with psycopg.connect(url) as conn:
        names = [name for (name,) in conn.execute(
            "SELECT format('%I.%I', schemaname, relname) FROM pg_stat_user_tables ORDER BY 1")]
        return {name: conn.execute(sql.SQL("SELECT md5(coalesce(string_agg(t::text, ',' ORDER BY t::text), ''))"
                                           " FROM {} AS t").format(sql.SQL(name))).fetchone()[0]
                for name in names}


@pytest.fixture(scope="module")
def production(pg_server, tmp_path_factory):
    prod = Production(pg_server, tmp_path_factory.mktemp("prod"))
    yield prod
    prod.drop()


@pytest.fixture(scope="module")
def first_dump(production, test_image, docker_client, tmp_path_factory) -> dumping.DumpReport:
    before = production.fingerprint()
    report = run_dump(production, test_image, docker_client, tmp_path_factory.mktemp("dumps"), SECRET)
    assert production.fingerprint() == before
    return report


def run_dump(production, image, client, directory: Path, secret: bytes, rules: dict = RULES,
             progress=None) -> dumping.DumpReport:
    """A dump whose pg_dump runs in `image`, which must be of production's major."""
    def image_of(major: int) -> str:
        with psycopg.connect(production.url) as conn:
            assert major == conn.info.server_version // 10000
        return image

    return dumping.dump(production.url, image_of=image_of, rules=parse_rules(rules, TOML), secret=secret,
                        directory=directory, environment="prod", progress=progress, client=client)


def members(path: str) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def deterministic(contents: dict[str, bytes]) -> dict[str, bytes]:
    manifest = json.loads(contents["manifest.json"])
    del manifest["created_at"]
    return {**contents, "manifest.json": json.dumps(manifest, sort_keys=True).encode()}


@pytest.fixture(scope="module")
def restored(first_dump, pg_server) -> tuple[str, RestoreReport]:
    name = f"restored_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(pg_server.url(), autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE template0").format(sql.Identifier(name)))
    report = restore(Path(first_dump.path), pg_server.url(name), jobs=3)
    yield pg_server.url(name), report
    with psycopg.connect(pg_server.url(), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


def count(url: str, query: str | sql.Composable, params: tuple = ()) -> int:
    with psycopg.connect(url) as conn:
        return conn.execute(query, params or None).fetchone()[0]


def text_values(url: str) -> set[str]:
    """Every distinct non-NULL value of every column of every table, as text."""
    with psycopg.connect(url) as conn:
        columns = conn.execute("""
            SELECT format('%I.%I', table_schema, table_name), quote_ident(column_name)
            FROM information_schema.columns c JOIN information_schema.tables t USING (table_schema, table_name)
            WHERE table_schema NOT IN ('pg_catalog', 'information_schema') AND t.table_type = 'BASE TABLE'
        """).fetchall()
        values: set[str] = set()
        for relation, column in columns:
            query = sql.SQL("SELECT DISTINCT {}::text FROM {} WHERE {} IS NOT NULL").format(
                sql.SQL(column), sql.SQL(relation), sql.SQL(column))
            values.update(value for (value,) in conn.execute(query))
        return values


def test_no_original_pii_value_appears_anywhere_in_the_restored_database(production, restored):
    url, _ = restored
    with psycopg.connect(production.url) as conn:
        originals = {value for (value,) in conn.execute("""
            SELECT unnest(ARRAY[email, first_name, last_name, phone, password_hash, notes, api_key,
                                last_login_ip::text]) FROM users
            UNION SELECT token FROM auth_tokens UNION SELECT shipping_address FROM orders""") if value}
        emails = {value for (value,) in conn.execute("SELECT email FROM users")}
    values = text_values(url)
    assert len(values) > 10_000 and not values & originals
    assert not set(SEED_FIRST + SEED_LAST) & set(FIRST_NAMES + LAST_NAMES)
    names = re.compile(r"\b(" + "|".join(SEED_FIRST + SEED_LAST + ("O'Brien", "Ångström", "Zoë")) + r")\b")
    embedded_email = re.compile(r"[\w.+'\\-]+@[\w-]+(?:\.[\w-]+)+")
    for value in values:
        assert not names.search(value), value
        assert not any(found in emails or found.endswith("work.example.org")
                       for found in embedded_email.findall(value)), value
        assert "sk_live_" not in value and "tok_" not in value and "+44 20 7946" not in value, value
        assert "Baker Street" not in value, value


def test_foreign_keys_unique_constraints_and_sequences_hold_after_restore(production, restored):
    url, _ = restored
    constraints = ("SELECT count(*) FROM pg_constraint"
                   " WHERE contype = %s AND convalidated AND connamespace = 'public'::regnamespace")
    for kind in ("f", "u", "p"):
        assert count(url, constraints, (kind,)) == count(production.url, constraints, (kind,)) > 0
    orphans = "SELECT count(*) FROM {} AS c LEFT JOIN {} AS p ON p.id = c.{} WHERE p.id IS NULL"
    for child, parent, column in (("order_items", "orders", "order_id"), ("auth_tokens", "users", "user_id")):
        assert count(url, sql.SQL(orphans).format(*map(sql.Identifier, (child, parent, column)))) == 0
    for relation, column in (("users", "email"), ("users", "api_key"), ("auth_tokens", "token")):
        assert count(url, sql.SQL("SELECT count(DISTINCT {column}) - count({column}) FROM {relation}").format(
            column=sql.Identifier(column), relation=sql.Identifier(relation))) == 0
    assert count(url, "SELECT nextval('users_id_seq')") > count(url, "SELECT max(id) FROM users")
    assert count(url, "SELECT count(*) FROM users WHERE email_domain <> 'example.com'") == 0
    assert count(url, "SELECT count(*) FROM users WHERE password_hash <> %s", (dev_password_hash().decode(),)) == 0
    assert count(url, "SELECT count(*) FROM users WHERE plan <> 'free' OR last_login_ip IS NOT NULL") == 0


def test_row_counts_match_production_or_the_subset_rules(production, restored, first_dump):
    url, report = restored
    prod = production.url
    for relation in ("roles", "users", "auth_tokens", "newsletter"):
        rows = sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(relation))
        assert count(url, rows) == count(prod, rows)
    assert count(url, "SELECT count(*) FROM orders") == 1000
    assert count(url, "SELECT max(id) FROM orders") == 1000
    assert count(url, "SELECT count(*) FROM order_items") == count(
        prod, "SELECT count(*) FROM order_items WHERE order_id IN (SELECT id FROM orders ORDER BY id LIMIT 1000)")
    assert count(url, "SELECT count(*) FROM events") == count(
        prod, "SELECT count(*) FROM events WHERE created_at > '2024-06-01'")
    assert count(url, "SELECT count(*) FROM audit_log") == 0
    dumped = {t.entry.table: t.entry for t in first_dump.tables}
    assert dumped["public.users"].rows == USERS + 2 and dumped["public.audit_log"].members == ()
    assert dumped["public.order_items"].subset == "only rows referencing kept rows of public.orders"
    assert ("email", "email") in dumped["public.users"].masked
    assert {t.entry.table: t.entry.rows for t in report.tables} == {
        name: entry.rows for name, entry in dumped.items() if entry.members}


def test_the_same_email_joins_across_tables_without_a_foreign_key(production, restored):
    url, _ = restored
    join = "SELECT count(*) FROM newsletter n JOIN users u ON u.email = n.email"
    assert count(url, join) == count(production.url, join) == USERS // 5


def test_the_ledger_travels_and_only_missing_migrations_apply(production, restored, first_dump, tmp_path):
    url, report = restored
    assert report.ledger.kind == "pgparity"
    assert [(entry.version, entry.name) for entry in report.ledger.entries] == [("1", "schema"), ("2", "orders")]
    migrations = tmp_path / "migrations"
    migrations.mkdir()
    for name in MIGRATIONS:
        (migrations / name).write_text((production.root / "migrations" / name).read_text())
    (migrations / "003_flags.sql").write_text("ALTER TABLE users ADD COLUMN beta boolean NOT NULL DEFAULT false;")
    plan = discover(migrations, MigrationPolicy())
    with psycopg.connect(url) as conn:
        assert ledger.read(conn) == ()  # production's ledger travels in the manifest, not as rows
        restored_schema = dataclasses.replace(inspect(conn), ledger=report.ledger)
    todo = locate(plan.migrations, restored_schema, ProductionPolicy()).pending
    assert [m.name for m in todo] == ["flags"]
    replay(url, todo, Quiet())
    assert count(url, "SELECT count(*) FROM users WHERE NOT beta") == USERS + 2


def test_same_secret_gives_byte_identical_members_and_another_secret_differs(
        production, first_dump, test_image, docker_client, tmp_path):
    again = run_dump(production, test_image, docker_client, tmp_path / "again", SECRET)
    other = run_dump(production, test_image, docker_client, tmp_path / "other", OTHER_SECRET)
    first, second, third = members(first_dump.path), members(again.path), members(other.path)
    assert deterministic(first) == deterministic(second)
    [users] = next(t.entry.members for t in first_dump.tables if t.entry.table == "public.users")
    assert first[users.name] != third[users.name]
    assert first["schema/pre-data.sql"] == third["schema/pre-data.sql"]
    schema = first["schema/pre-data.sql"]
    assert b"\\restrict" not in schema and b"CREATE TABLE public.users" in schema
    assert not docker_client.containers.list(all=True, filters={"label": CLIENT_LABEL})


def extracted_users(production, parts: int, formats, directory: Path) -> list[list[bytes]]:
    """production's users read by worker processes in `parts` parts, decompressed and split into fields."""
    rules = parse_rules(RULES, TOML)
    directory.mkdir()
    with closing(begin_snapshot(production.url)) as conn:
        tables = read_tables(conn)
        users = next(table for table in tables if table.name.name == "users")
        statements = Subset(tables, rules).selection(users, parts).statements
        planned = [plan_part("public.users", f"data/0001.{number}", statement.as_string(conn), users.columns, rules,
                             formats) for number, statement in enumerate(statements)]
        snapshot = conn.execute("SELECT pg_export_snapshot()").fetchone()[0]
        with Extractor(production.url, snapshot, SECRET, rules, directory, 2, formats) as pool:
            results = pool.run(planned, lambda member, rows: None)
    assert len(planned) == parts and sum(result.rows for result in results.values()) == USERS + 2
    data = b"".join(zstandard.ZstdDecompressor().decompressobj().decompress(part_file(directory, part.member).read_bytes())
                    for part in planned)
    return [line.split(b"\t") for line in data.splitlines()]


def test_parts_read_in_parallel_keep_unique_columns_unique_as_one_whole_read_does(production, tmp_path):
    """Ids of two or three hex digits collide everywhere; parts only learn of the others' values afterwards."""
    tiny = {**ID_FORMATS, "email": IdFormat("user-{}@example.com", decimal=False, lengths=(2, 3))}
    whole = extracted_users(production, 1, tiny, tmp_path / "whole")
    split = extracted_users(production, 3, tiny, tmp_path / "split")
    assert split == whole
    emails = [row[1] for row in split]
    assert len(set(emails)) == len(emails) == USERS + 2
    assert {len(email) for email in emails} >= {len("user-abc@example.com"), len("user-@example.com") + 64}


def test_a_dump_in_many_parts_restores_the_same_rows(production, first_dump, test_image, docker_client, tmp_path,
                                                      fresh_db, production_db, monkeypatch, image_major):
    monkeypatch.setattr("pgparity.data.subset.PART_PAGES", 8)
    report = run_dump(production, test_image, docker_client, tmp_path, SECRET)
    parts = {t.entry.table: len(t.entry.members) for t in report.tables}
    if image_major * 10000 >= TID_RANGE_SCANS:
        assert parts["public.users"] > 2 and parts["public.auth_tokens"] > 2
    else:  # without ctid range scans every part would read the whole table
        assert parts["public.users"] == parts["public.auth_tokens"] == 1
    assert parts["public.orders"] == 1
    restore(Path(report.path), fresh_db, jobs=3)
    restore(Path(first_dump.path), production_db)
    assert fingerprint(fresh_db) == fingerprint(production_db)


def test_an_unlisted_pii_column_is_refused_by_name_and_nothing_is_written(
        production, test_image, docker_client, tmp_path):
    rules = {"columns": {k: v for k, v in RULES["columns"].items() if k != "public.users.phone"},
             "tables": RULES["tables"]}
    with pytest.raises(SanitizeError, match=r"PII-looking columns without a rule: public\.users\.phone \("):
        run_dump(production, test_image, docker_client, tmp_path / "out", SECRET, rules)
    assert not (tmp_path / "out").exists()


def test_production_is_never_written_even_by_a_role_that_could(production, test_image, docker_client, tmp_path):
    with psycopg.connect(production.url) as conn:  # the owner can write: its own session runs the trap
        assert conn.execute("SELECT public.write_trap()").fetchone()[0] is True
        conn.rollback()
    before = production.fingerprint()
    rules = {**RULES, "tables": {**RULES["tables"], "public.events": {"where": "public.write_trap()"}}}
    with pytest.raises(DumpError, match="read-only transaction") as caught:
        run_dump(production, test_image, docker_client, tmp_path / "out", SECRET, rules)
    assert "\n" not in str(caught.value) and "owner-pw" not in str(caught.value)
    assert production.fingerprint() == before
    assert [path.name for path in (tmp_path / "out").iterdir()] == [".gitignore"]  # no archive, no part


class Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple] = []

    def start(self, tables: int) -> None:
        self.calls.append(("start", tables))

    def advance(self, table: str, rows: int, seconds: float) -> None:
        self.calls.append(("advance", table, rows))

    def done(self, report: TableReport) -> None:
        self.calls.append(("done", report.entry.table, report.entry.rows, report.rows_per_second))


def test_progress_reports_rows_per_table(production, test_image, docker_client, tmp_path):
    recorder = Recorder()
    report = run_dump(production, test_image, docker_client, tmp_path, SECRET, progress=recorder)
    done = {call[1]: call[2] for call in recorder.calls if call[0] == "done"}
    assert recorder.calls[0] == ("start", len(report.tables)) and done["public.users"] == USERS + 2
    assert all(call[3] > 0 for call in recorder.calls if call[0] == "done" and call[2])
    assert Path(report.path).name.startswith("prod-") and report.path.endswith(".sanitized.zip")
    assert report.ledger == 2 and report.sequences >= 7


def damaged_copies(path: Path, directory: Path) -> dict[str, Path]:
    data = path.read_bytes()
    truncated, flipped, foreign = directory / "truncated.zip", directory / "flipped.zip", directory / "notes.zip"
    truncated.write_bytes(data[: len(data) // 2])
    with zipfile.ZipFile(path) as archive:
        users = next(info for info in archive.infolist() if info.filename.startswith("data/")
                     and info.compress_size > 10_000)
    middle = users.header_offset + 100 + users.compress_size // 2
    flipped.write_bytes(data[:middle] + bytes(b ^ 0xFF for b in data[middle:middle + 64]) + data[middle + 64:])
    foreign.write_bytes(b"just some notes\n")
    return {"truncated": truncated, "flipped": flipped, "foreign": foreign}


def test_a_damaged_dump_fails_in_one_line_and_leaves_the_target_untouched(first_dump, fresh_db, tmp_path):
    for kind, damaged in damaged_copies(Path(first_dump.path), tmp_path).items():
        with pytest.raises(DumpError) as caught:
            restore(damaged, fresh_db)
        message = str(caught.value)
        assert "\n" not in message and str(damaged) in message, kind
        assert count(fresh_db, "SELECT count(*) FROM pg_class WHERE relnamespace = 'public'::regnamespace") == 0
    with pytest.raises(DumpError, match="no such dump"):
        restore(tmp_path / "missing.zip", fresh_db)


def test_a_dump_of_another_format_is_refused_by_name(tmp_path):
    older = tmp_path / "old.sanitized.zip"
    with zipfile.ZipFile(older, "w") as archive:
        archive.writestr("manifest.json", json.dumps({"format": "pgparity-dump/1", "tables": []}))
    with pytest.raises(DumpError, match=r"old\.sanitized\.zip: .*format 'pgparity-dump/1'; this pgparity reads "
                                        r"pgparity-dump/3\); take a new one"):
        verify_archive(older)


def test_restore_refuses_a_database_that_is_not_empty(first_dump, fresh_db):
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        conn.execute("CREATE TABLE precious (id int)")
    with pytest.raises(DumpError, match="is not empty; restore into a new database"):
        restore(Path(first_dump.path), fresh_db)
    assert verify_archive(Path(first_dump.path)).format == FORMAT


# ----------------------------------------------------------------------------- through the command line


def rules_toml(rules: dict) -> str:
    lines = ["[sanitize.columns]"] + [f'"{name}" = "{rule}"' for name, rule in rules["columns"].items()]
    lines.append("[sanitize.tables]")
    for name, options in rules["tables"].items():
        inner = ", ".join(f"{key} = {json.dumps(value)}" for key, value in options.items())
        lines.append(f'"{name}" = {{ {inner} }}')
    return "\n".join(lines) + "\n"


def test_db_dump_then_sync_from_dump_then_a_damaged_restore(production, project, docker_client):
    project.env.update(PGPARITY_PROD_URL=production.url, PGPARITY_SANITIZE_SECRET=SECRET.decode())
    (project.root / "migrations").mkdir()
    for name, text in MIGRATIONS.items():
        (project.root / "migrations" / name).write_text(text)
    (project.root / "migrations" / "003_flags.sql").write_text(
        "ALTER TABLE users ADD COLUMN beta boolean NOT NULL DEFAULT false;")
    unlisted = {**RULES, "columns": {k: v for k, v in RULES["columns"].items() if k != "public.users.phone"}}
    (project.root / "pgparity.toml").write_text(rules_toml(unlisted))
    refused = project.run("db.dump")
    assert refused.returncode == 2 and "public.users.phone" in refused.stderr
    no_jobs = project.run("db.dump", "--jobs", "0")
    assert no_jobs.returncode == 2 and no_jobs.stderr.strip().endswith("--jobs must be at least 1, got 0")
    assert not list((project.root / "dumps").glob("*.zip"))

    (project.root / "pgparity.toml").write_text(rules_toml(RULES))
    volumes_before = {volume.id for volume in docker_client.volumes.list()}
    dumped = project.run("db.dump")
    assert dumped.returncode == 0, dumped.stderr
    assert {volume.id for volume in docker_client.volumes.list()} <= volumes_before, "the pg_dump container leaked a volume"
    [archive] = (project.root / "dumps").glob("*.zip")
    assert f"wrote dumps/{archive.name}" in dumped.stdout and "email=email" in dumped.stdout

    synced = project.run("db.sync", "--from-dump", f"dumps/{archive.name}")
    assert synced.returncode == 0, synced.stderr
    assert "1 migration applied to app" in synced.stdout
    dev = project.url()
    assert count(dev, "SELECT count(*) FROM users WHERE NOT beta") == USERS + 2
    assert count(dev, "SELECT count(*) FROM users WHERE email NOT LIKE 'user-%@example.com'") == 0

    damaged = damaged_copies(archive, project.root)["truncated"]
    broken = project.run("db.restore", damaged.name)
    assert broken.returncode == 2 and len(broken.stderr.strip().splitlines()) == 1, broken.stderr
    assert count(dev, "SELECT count(*) FROM users") == USERS + 2


def test_two_unique_masked_columns_in_one_table_both_stay_unique(fresh_db, tmp_path):
    """Each identity kind settles its collisions with its own values, never another kind's."""
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        conn.execute("CREATE TABLE contacts (id int PRIMARY KEY, email text UNIQUE, phone text UNIQUE)")
        conn.execute("INSERT INTO contacts SELECT n, 'person' || n || '@example.org', '+44 20 ' || (7000000 + n)"
                     " FROM generate_series(1, 2000) AS n")
    tiny = {**ID_FORMATS, "email": IdFormat("user-{}@example.com", decimal=False, lengths=(2, 3)),
            "phone": IdFormat("+1555{}", decimal=True, lengths=(2, 3))}
    rules = parse_rules({"columns": {"public.contacts.email": "email", "public.contacts.phone": "phone"}}, TOML)
    with closing(begin_snapshot(fresh_db)) as conn:
        [contacts] = read_tables(conn)
        statements = Subset((contacts,), rules).selection(contacts, 2).statements
        planned = [plan_part("public.contacts", f"data/0001.{number}", statement.as_string(conn), contacts.columns,
                             rules, tiny) for number, statement in enumerate(statements)]
        snapshot = conn.execute("SELECT pg_export_snapshot()").fetchone()[0]
        with Extractor(fresh_db, snapshot, SECRET, rules, tmp_path, 2, tiny) as pool:
            pool.run(planned, lambda member, rows: None)
    data = b"".join(zstandard.ZstdDecompressor().decompressobj().decompress(part_file(tmp_path, part.member).read_bytes())
                    for part in planned)
    rows = [line.split(b"\t") for line in data.splitlines()]
    assert len(rows) == 2000
    for index in (1, 2):
        values = [row[index] for row in rows]
        assert len(set(values)) == len(values), f"column {index} holds duplicates"


FREE_TEXT = """
CREATE TYPE contact AS (kind text, address text);
CREATE TABLE people (id int PRIMARY KEY, email text UNIQUE, comment text, profile jsonb, aliases text[],
                     code varchar(40), reach contact);
INSERT INTO people
SELECT n, 'owner' || n || '@mail.example.net',
       'Ping Owner' || n || '.Private@corp.example.net or +44 20 7946 ' || lpad(n::text, 4, '0') || ' re 10.9.8.' || (n % 200),
       jsonb_build_object('contact', jsonb_build_object('mail', 'home' || n || '@mail.example.net'), 'n', n),
       ARRAY['alias' || n || '@mail.example.net', 'second' || n || '@mail.example.net'],
       'ok', ROW('work', 'reach' || n || '@mail.example.net')::contact
FROM generate_series(1, 300) AS n;
CREATE TABLE visits (id int, at date NOT NULL, email text) PARTITION BY RANGE (at);
CREATE TABLE visits_2024 PARTITION OF visits FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE TABLE visits_2025 PARTITION OF visits FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
INSERT INTO visits SELECT n, date '2024-06-01' + n, 'visitor' || n || '@mail.example.net'
FROM generate_series(1, 400) AS n;
"""
# A rule on the partitioned table covers every partition.
SCRUBBED = {"columns": {"public.people.email": "email", "public.people.comment": "scrub",
                        "public.people.profile": "scrub", "public.people.aliases": "scrub",
                        "public.people.reach": "scrub", "public.visits.email": "email"}}


def test_pii_in_free_text_json_and_arrays_is_found_by_content_and_scrubbed(production_db, fresh_db, test_image,
                                                                           docker_client, tmp_path):
    with psycopg.connect(production_db, autocommit=True) as conn:
        conn.execute(FREE_TEXT)
    production = type("Production", (), {"url": production_db})
    with pytest.raises(SanitizeError) as refused:
        run_dump(production, test_image, docker_client, tmp_path / "refused", SECRET,
                 {"columns": {"public.people.email": "email", "public.visits.email": "email"}})
    message = str(refused.value)
    assert "PII found in the values of columns without a rule: public.people.aliases (email " in message
    assert "public.people.comment (email " in message and "ip " in message and "phone " in message
    assert "public.people.profile (email " in message and "public.people.code" not in message
    assert "public.people.reach (email " in message
    assert "@mail.example.net" not in message and "Private" not in message and "visits" not in message

    report = run_dump(production, test_image, docker_client, tmp_path / "dumps", SECRET, SCRUBBED)
    archive = Path(report.path)
    assert oct(archive.stat().st_mode & 0o777) == "0o600"
    assert oct(archive.parent.stat().st_mode & 0o777) == "0o700"
    assert (archive.parent / ".gitignore").read_text().splitlines()[-1] == "*"
    restore(archive, fresh_db)
    with psycopg.connect(production_db) as conn:
        originals = {value.lower() for (value,) in conn.execute(r"""
            SELECT unnest(regexp_matches(comment || ' ' || profile::text || ' ' || array_to_string(aliases, ' ')
                                         || ' ' || reach::text,
                                         '[A-Za-z0-9.+]+@[a-z.]+|\+44 20 7946 \d{4}|10\.9\.8\.\d+', 'g'))
            FROM people""")}
        originals |= {value for (value,) in conn.execute("SELECT email FROM visits")}
    assert len(originals) > 1700
    restored = " ".join(text_values(fresh_db)).lower()
    data = b"".join(zstandard.ZstdDecompressor().decompressobj().decompress(blob)
                    for name, blob in members(report.path).items() if name.startswith("data/")).decode().lower()
    assert [value for value in originals if value in restored or value in data] == []
    assert count(fresh_db, "SELECT count(*) FROM people WHERE profile -> 'n' IS NOT NULL") == 300  # json kept
    kept = "SELECT count(*) FROM people WHERE comment LIKE 'Ping user-%@example.com or +1555% re 192.0.2.%'"
    assert count(fresh_db, kept) == 300  # the text around the fakes is kept
    assert count(fresh_db, "SELECT count(*) FROM visits WHERE email LIKE 'user-%@example.com'") == 400


def test_init_rules_writes_a_rule_for_every_flagged_column_then_the_dump_goes_through(production_db, project):
    with psycopg.connect(production_db, autocommit=True) as conn:
        conn.execute(FREE_TEXT)
    (project.root / "pgparity.toml").write_text('# ours\n[migrations]\nskip = []\n')
    env = {"PGPARITY_PROD_URL": production_db, "PGPARITY_SANITIZE_SECRET": SECRET.decode()}
    explained = project.run("db.dump", "--explain", extra=env)
    assert explained.returncode == 0, explained.stderr
    assert "6 flagged columns, 6 without a rule" in explained.stdout and "public.people.comment" in explained.stdout
    assert "content: email 300, ip 300, phone 300" in explained.stdout and "Private" not in explained.stdout
    wrote = project.run("db.dump", "--init-rules", extra=env)
    assert wrote.returncode == 0, wrote.stderr
    text = (project.root / "pgparity.toml").read_text()
    assert text.startswith("# ours\n[migrations]")
    written = tomllib.loads(text)["sanitize"]["columns"]
    assert written == {"public.people.email": "email", "public.people.comment": "scrub",
                       "public.people.profile": "scrub", "public.people.aliases": "scrub",
                       "public.people.reach": "scrub", "public.visits.email": "email"}
    assert "# review: content: email 300, ip 300, phone 300 in a sample" in text
    assert "wrote 6 rules to pgparity.toml" in wrote.stdout
    again = project.run("db.dump", "--init-rules", extra=env)
    assert "every flagged column has a rule already" in again.stdout
    assert "6 flagged columns, 0 without a rule" in project.run("db.dump", "--explain", extra=env).stdout
    dumped = project.run("db.dump", extra=env)
    assert dumped.returncode == 0, dumped.stderr


def test_a_check_that_masked_values_would_break_is_refused_before_the_dump(production_db, test_image,
                                                                           docker_client, tmp_path):
    with psycopg.connect(production_db, autocommit=True) as conn:
        conn.execute("""
            CREATE TABLE members (id int PRIMARY KEY, email text CONSTRAINT has_at CHECK (email LIKE '%@%'),
                                  work_email text CONSTRAINT corporate CHECK (work_email LIKE '%@corp.example.net'));
            INSERT INTO members SELECT n, 'm' || n || '@home.example.net', 'm' || n || '@corp.example.net'
            FROM generate_series(1, 50) AS n""")
    production = type("Production", (), {"url": production_db})
    rules = {"columns": {"public.members.email": "email", "public.members.work_email": "email"}}
    with pytest.raises(SanitizeError) as refused:
        run_dump(production, test_image, docker_client, tmp_path / "refused", SECRET, rules)
    message = str(refused.value)
    assert "public.members: 50 of 50 masked sample rows break CHECK corporate" in message and "has_at" not in message
    assert "corp.example.net'" in message and "m1@" not in message
    rules["columns"]["public.members.work_email"] = "keep"
    run_dump(production, test_image, docker_client, tmp_path / "kept", SECRET, rules)


def test_production_privileges_are_restored_and_a_missing_role_is_said(production_db, fresh_db, pg_server,
                                                                       test_image, docker_client, tmp_path):
    role, gone = f"reader_{uuid.uuid4().hex[:8]}", f"gone_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(production_db, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE ROLE {}").format(sql.Identifier(role)))
        conn.execute(sql.SQL("CREATE ROLE {}").format(sql.Identifier(gone)))
        conn.execute(sql.SQL("CREATE TABLE reports (id int PRIMARY KEY, title text); CREATE TABLE secrets (id int);"
                             "GRANT SELECT ON reports TO {role}; GRANT SELECT ON secrets TO {gone};"
                             "REVOKE ALL ON secrets FROM PUBLIC").format(role=sql.Identifier(role),
                                                                         gone=sql.Identifier(gone)))
    report = run_dump(type("Production", (), {"url": production_db}), test_image, docker_client, tmp_path, SECRET,
                      {"columns": {}})
    with psycopg.connect(production_db, autocommit=True) as conn:  # the role is gone by the time dev restores
        conn.execute(sql.SQL("DROP OWNED BY {}; DROP ROLE {}").format(sql.Identifier(gone), sql.Identifier(gone)))
    try:
        restored = restore(Path(report.path), fresh_db)
        assert count(fresh_db, sql.SQL("SELECT count(*) FROM information_schema.role_table_grants "
                                       "WHERE grantee = {} AND table_name = 'reports'").format(sql.Literal(role))) == 1
        assert restored.notes == (f'privileges on TABLE secrets not restored: role "{gone}" does not exist',)
    finally:
        with psycopg.connect(pg_server.url(), autocommit=True) as conn:
            for database in (production_db, fresh_db):
                with psycopg.connect(database, autocommit=True) as owned:
                    owned.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(role)))
            conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))


def test_lower_case_joins_survive_and_case_twins_in_a_unique_column_stay_apart(production_db, fresh_db, test_image,
                                                                               docker_client, tmp_path):
    with psycopg.connect(production_db, autocommit=True) as conn:
        conn.execute("""
            CREATE TABLE accounts (id int PRIMARY KEY, email text UNIQUE);
            CREATE TABLE subscribers (id int PRIMARY KEY, email text);
            CREATE TABLE twins (id int PRIMARY KEY, email text UNIQUE);
            INSERT INTO accounts SELECT n, 'Case' || n || '@Mail.Example.net' FROM generate_series(1, 100) AS n;
            INSERT INTO subscribers SELECT n, 'case' || n || '@mail.example.net' FROM generate_series(1, 100) AS n;
            INSERT INTO twins VALUES (1, 'Ann@corp.example.net'), (2, 'ann@corp.example.net')""")
    join = "SELECT count(*) FROM accounts a JOIN subscribers s ON lower(a.email) = lower(s.email)"
    assert count(production_db, join) == 100
    rules = {"columns": {f"public.{table}.email": "email" for table in ("accounts", "subscribers", "twins")}}
    report = run_dump(type("Production", (), {"url": production_db}), test_image, docker_client, tmp_path, SECRET,
                      rules)
    assert report.notes == ("public.twins.email holds addresses that differ only in case; masked exactly "
                            "(email:exact), so lower() joins on it may not match",)
    restore(Path(report.path), fresh_db)
    assert count(fresh_db, join) == 100
    assert count(fresh_db, "SELECT count(DISTINCT email) FROM twins WHERE email LIKE 'user-%@example.com'") == 2


def test_arrays_masked_element_by_element_restore(production_db, fresh_db, test_image, docker_client, tmp_path):
    with psycopg.connect(production_db, autocommit=True) as conn:
        conn.execute("""CREATE TABLE lists (id int PRIMARY KEY, emails text[], names varchar(40)[]);
                        INSERT INTO lists VALUES (1, ARRAY['a@x.org', 'B C@x.org', NULL], ARRAY['Ann Lee', 'Bo']),
                                                 (2, '{}', NULL)""")
    rules = {"columns": {"public.lists.emails": "email", "public.lists.names": "full_name"}}
    report = run_dump(type("Production", (), {"url": production_db}), test_image, docker_client, tmp_path, SECRET,
                      rules)
    restore(Path(report.path), fresh_db)
    with psycopg.connect(fresh_db) as conn:
        rows = conn.execute("SELECT emails, names FROM lists ORDER BY id").fetchall()
    assert [len(rows[0][0]), rows[0][0][2], rows[1][0], rows[1][1]] == [3, None, [], None]
    assert all(email.startswith("user-") and email.endswith("@example.com") for email in rows[0][0][:2])
    assert len(rows[0][1]) == 2 and "Ann Lee" not in rows[0][1]


def test_a_production_newer_than_dev_is_dumped_by_its_own_pg_dump_and_not_restored_on_another_major(
        newer_server, project, docker_client, test_image):
    """pg_dump comes from production's major, not from dev's image; the dump is refused by a dev server of
    another major in one line naming both releases; an older pg_dump's refusal carries pg_dump's own words."""
    with scratch_database(newer_server) as url:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("CREATE TABLE plans (id int PRIMARY KEY, name text); INSERT INTO plans VALUES (1, 'free');")
            newer = conn.info.server_version
        project.env.update(PGPARITY_PROD_URL=url, PGPARITY_SANITIZE_SECRET=SECRET.decode())
        (project.root / "pgparity.toml").write_text('[sanitize.columns]\n"public.plans.name" = "keep"\n')
        (project.root / "migrations").mkdir()
        dumped = project.run("db.dump")
        assert dumped.returncode == 0, dumped.stderr
        [archive] = (project.root / "dumps").glob("*.zip")
        assert json.loads(members(str(archive))["manifest.json"])["server_version"].startswith(f"{newer // 10000}.")

        refused = project.run("db.restore", f"dumps/{archive.name}")
        assert refused.returncode == 2 and len(refused.stderr.strip().splitlines()) == 1, refused.stderr
        assert f"{archive.name} is a dump of PostgreSQL {newer // 10000}.{newer % 10000} but the dev server runs " \
            in refused.stderr and f"PGPARITY_IMAGE to an image of {newer // 10000}" in refused.stderr

        with pytest.raises(DumpError) as caught:
            dump_schema(docker_client, test_image, url, "prod", "00000003-00000002-1", None)
        assert "pg_dump: error: aborting because of server version mismatch" in str(caught.value)
        assert f"server version: {newer // 10000}." in str(caught.value)


def children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def until(condition, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "condition never became true"
        time.sleep(0.02)


def test_a_dump_killed_midway_leaves_nothing_once_the_next_dump_has_run(production, test_image, docker_client,
                                                                        tmp_path):
    environment = f"kill-{uuid.uuid4().hex[:8]}"
    label = {"label": f"{CLIENT_LABEL}={environment}"}
    code = ("import json, sys; from pathlib import Path; from pgparity.data import dump; "
            "from pgparity.data.sanitize import parse_rules; url, image, folder, env, rules = sys.argv[1:]; "
            "dump.dump(url, image_of=lambda major: image, rules=parse_rules(json.loads(rules), Path('pgparity.toml')), "
            f"secret={SECRET!r}, directory=Path(folder), environment=env, jobs=2)")
    killed = subprocess.Popen([sys.executable, "-c", code, production.url, test_image, str(tmp_path), environment,
                               json.dumps(RULES)])
    with psycopg.connect(production.url) as holder:
        until(lambda: list(tmp_path.glob(".pgparity-dump-*")) or killed.poll() is not None)
        # Taken once the dump has read the catalogs, before its pg_dump starts: pg_dump waits for it.
        holder.execute("LOCK TABLE audit_log IN ACCESS EXCLUSIVE MODE")
        until(lambda: docker_client.containers.list(filters=label) and len(children(killed.pid)) >= 2
              or killed.poll() is not None)
        assert killed.poll() is None, "the dump ended before it could be killed midway"
        workers = children(killed.pid)
        killed.kill()
        killed.wait()
    deadline = time.monotonic() + 10
    while any(Path(f"/proc/{pid}/cmdline").exists() and Path(f"/proc/{pid}/cmdline").read_bytes() for pid in workers):
        assert time.monotonic() < deadline, "a worker outlived its dump"
        time.sleep(0.05)
    assert list(tmp_path.glob(".pgparity-dump-*")) and docker_client.containers.list(all=True, filters=label)
    report = dumping.dump(production.url, image_of=lambda major: test_image, rules=parse_rules(RULES, TOML),
                          secret=SECRET, directory=tmp_path, environment=environment, client=docker_client)
    assert "removed what killed dumps left: 1 work folders in" in " ".join(report.notes)
    assert "and 1 pg_dump containers" in " ".join(report.notes)
    assert list(tmp_path.glob(".pgparity-dump-*")) == []
    assert docker_client.containers.list(all=True, filters=label) == []
