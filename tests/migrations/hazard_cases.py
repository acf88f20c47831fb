"""DDL statement patterns and what PostgreSQL really does to a table when each runs: the lock it takes, whether
it rewrites the table or scans every row, and the hazard codes the deploy-safety analyser must report.

The expectations were derived from PostgreSQL's documentation of ALTER TABLE (its lock levels and rewrite rules)
and then confirmed on real servers by test_hazards_observed.py; where the server and the docs part, the server
wins and `note` says so. `rewrite` and `scan` are what is observed on `table` (its relfilenode changes; it is
read in full without being rewritten); `codes` is what the analyser says about the statement as a whole.

Codes: "rewrite" (the table is rewritten), "scan" (a full scan under a lock that blocks writes, or a
validation scan), "lock" (a brief ACCESS EXCLUSIVE on an existing table: only
when no other code is reported, since a rewrite, scan or index build under that lock says it already), "index" (an index build that
blocks writes; such a build reads the table, but is reported as "index" alone), "data-loss" (data dropped),
"rename" (a name running code uses changes), "enum" (ALTER TYPE ... ADD VALUE).
"""

from __future__ import annotations

from dataclasses import dataclass

AE, EX, SRE, SH, SUE, RE, RS = (
    "ACCESS EXCLUSIVE", "EXCLUSIVE", "SHARE ROW EXCLUSIVE", "SHARE", "SHARE UPDATE EXCLUSIVE", "ROW EXCLUSIVE",
    "ROW SHARE",
)


@dataclass(frozen=True)
class Case:
    name: str
    setup: str
    statement: str
    table: str
    lock: str | None
    rewrite: bool
    scan: bool
    codes: frozenset[str]
    note: str = ""
    min_major: int = 13


def codes(*names: str) -> frozenset[str]:
    return frozenset(names)


# One table of every column type the ALTER COLUMN TYPE cases change, with three rows.
T = """
CREATE TABLE public.t (id int NOT NULL, a int, v varchar, v10 varchar(10), v20 varchar(20), x text,
                       n numeric(10,2), ts timestamp);
INSERT INTO public.t SELECT g, g, 'v', 'v', 'v', 'x', 1.5, '2024-01-01 12:00' FROM generate_series(1, 3) g;
"""
T_INDEXED = T + "CREATE INDEX t_a ON public.t (a);"
T_AND_U = T + """
CREATE TABLE public.u (id int PRIMARY KEY);
INSERT INTO public.u SELECT generate_series(1, 3);
"""
TRIGGER_FUNCTION = T + """
CREATE FUNCTION public.touch() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NEW; END$$;
"""
ENUM = """
CREATE TYPE public.mood AS ENUM ('sad', 'happy');
CREATE TABLE public.t (id int, m public.mood);
INSERT INTO public.t VALUES (1, 'sad'), (2, 'happy'), (3, 'sad');
"""
PARTITIONS = """
CREATE TABLE public.p (id int, at date NOT NULL) PARTITION BY RANGE (at);
CREATE TABLE public.t (id int, at date NOT NULL);
INSERT INTO public.t VALUES (1, '2024-01-05'), (2, '2024-01-06'), (3, '2024-01-07');
"""
ATTACH = "ALTER TABLE public.p ATTACH PARTITION public.t FOR VALUES FROM ('2024-01-01') TO ('2024-02-01')"


def alter_type(name: str, column: str, new_type: str, rewrite: bool, note: str = "", setup: str = T) -> Case:
    return Case(name, setup, f"ALTER TABLE public.t ALTER COLUMN {column} TYPE {new_type}", "public.t", AE,
                rewrite, False, codes("rewrite") if rewrite else codes("lock"), note)


CASES: list[Case] = [
    # --- ADD COLUMN ---
    Case("add-column-plain", T, "ALTER TABLE public.t ADD COLUMN c int", "public.t", AE, False, False,
         codes("lock")),
    Case("add-column-constant-default", T, "ALTER TABLE public.t ADD COLUMN c int DEFAULT 0", "public.t", AE,
         False, False, codes("lock"), "since 11 the default is stored as the missing value, not written"),
    Case("add-column-stable-default", T, "ALTER TABLE public.t ADD COLUMN c timestamptz DEFAULT now()",
         "public.t", AE, False, False, codes("lock"),
         "now() is STABLE: evaluated once, stored as the missing value; only VOLATILE defaults rewrite"),
    Case("add-column-volatile-default-random", T,
         "ALTER TABLE public.t ADD COLUMN c float8 DEFAULT random()", "public.t", AE, True, False,
         codes("rewrite")),
    Case("add-column-volatile-default-clock-timestamp", T,
         "ALTER TABLE public.t ADD COLUMN c timestamptz DEFAULT clock_timestamp()", "public.t", AE, True, False,
         codes("rewrite")),
    Case("add-column-stored-generated", T,
         "ALTER TABLE public.t ADD COLUMN c int GENERATED ALWAYS AS (a * 2) STORED", "public.t", AE, True, False,
         codes("rewrite")),
    Case("add-column-virtual-generated", T,
         "ALTER TABLE public.t ADD COLUMN c int GENERATED ALWAYS AS (a * 2) VIRTUAL", "public.t", AE, False,
         False, codes("lock"), "VIRTUAL generated columns exist since 18 (and are its default kind)",
         min_major=18),
    Case("add-column-identity", T, "ALTER TABLE public.t ADD COLUMN c int GENERATED ALWAYS AS IDENTITY",
         "public.t", AE, True, False, codes("rewrite"), "each row takes nextval(): a volatile default"),
    Case("add-column-serial", T, "ALTER TABLE public.t ADD COLUMN c serial", "public.t", AE, True, False,
         codes("rewrite"), "a default of nextval(), volatile"),
    Case("add-column-not-null-constant-default", T, "ALTER TABLE public.t ADD COLUMN c int NOT NULL DEFAULT 0",
         "public.t", AE, False, False, codes("lock"),
         "no NULL check scan either: the non-null missing value proves the constraint"),
    Case("add-column-not-null-no-default", "CREATE TABLE public.t (id int)",
         "ALTER TABLE public.t ADD COLUMN c int NOT NULL", "public.t", AE, False, True, codes("scan"),
         "on an empty table: it scans for NULLs (and fails on any row), so the scan is observable only here"),
    # --- ALTER COLUMN TYPE: binary-coercible, the catalog alone changes ---
    alter_type("alter-type-varchar-widen", "v10", "varchar(20)", False),
    alter_type("alter-type-varchar-bounded-to-text", "v10", "text", False),
    alter_type("alter-type-varchar-to-text", "v", "text", False),
    alter_type("alter-type-numeric-wider-precision", "n", "numeric(12,2)", False,
               "same scale, wider precision: no rewrite"),
    # --- ALTER COLUMN TYPE: rewriting (PostgreSQL rewrites even when it only needs to check lengths) ---
    alter_type("alter-type-varchar-to-bounded", "v", "varchar(255)", True,
               "unbounded to bounded: every value is checked, which ALTER TABLE does by a rewrite"),
    alter_type("alter-type-text-to-varchar", "x", "varchar(50)", True),
    alter_type("alter-type-int-to-bigint", "a", "bigint", True),
    alter_type("alter-type-varchar-narrow", "v20", "varchar(10)", True),
    alter_type("alter-type-numeric-scale", "n", "numeric(10,4)", True, "a new scale changes every value"),
    alter_type("alter-type-using", "x", "int USING length(x)", True),
    alter_type("alter-type-timestamp-to-timestamptz", "ts", "timestamptz", True,
               "rewrites unless the session's TimeZone is UTC; the analyser cannot know the deploy's TimeZone",
               setup="SET TimeZone = 'Europe/Paris';" + T),
    Case("alter-type-timestamp-to-timestamptz-utc", "SET TimeZone = 'UTC';" + T,
         "ALTER TABLE public.t ALTER COLUMN ts TYPE timestamptz", "public.t", AE, False, False,
         codes("rewrite"),
         "since 12 no rewrite when the session's TimeZone has offset 0 (UTC); the analyser sees no TimeZone,"
         " so it still reports the rewrite the same statement does elsewhere"),
    # --- NOT NULL, defaults, CHECK ---
    Case("set-not-null", T, "ALTER TABLE public.t ALTER COLUMN a SET NOT NULL", "public.t", AE, False, True,
         codes("scan")),
    Case("set-not-null-with-valid-check", T + "ALTER TABLE public.t ADD CONSTRAINT t_a_nn CHECK (a IS NOT NULL);",
         "ALTER TABLE public.t ALTER COLUMN a SET NOT NULL", "public.t", AE, False, False, codes("lock"),
         "since 12 a validated CHECK (a IS NOT NULL) proves it: no scan"),
    Case("drop-not-null", T, "ALTER TABLE public.t ALTER COLUMN id DROP NOT NULL", "public.t", AE, False, False,
         codes("lock")),
    Case("set-default", T, "ALTER TABLE public.t ALTER COLUMN a SET DEFAULT 0", "public.t", AE, False, False,
         codes("lock")),
    Case("add-check", T, "ALTER TABLE public.t ADD CONSTRAINT t_a_pos CHECK (a > 0)", "public.t", AE, False,
         True, codes("scan")),
    Case("add-check-not-valid", T, "ALTER TABLE public.t ADD CONSTRAINT t_a_pos CHECK (a > 0) NOT VALID",
         "public.t", AE, False, False, codes("lock")),
    Case("validate-check", T + "ALTER TABLE public.t ADD CONSTRAINT t_a_pos CHECK (a > 0) NOT VALID;",
         "ALTER TABLE public.t VALIDATE CONSTRAINT t_a_pos", "public.t", SUE, False, True, codes("scan"),
         "the scan runs under SHARE UPDATE EXCLUSIVE, which lets reads and writes through"),
    # --- foreign keys ---
    Case("add-foreign-key", T_AND_U, "ALTER TABLE public.t ADD CONSTRAINT t_a_fk FOREIGN KEY (a) REFERENCES public.u",
         "public.t", SRE, False, True, codes("scan"), "SHARE ROW EXCLUSIVE on both tables; the referencing one"
         " is checked by one outer-join query"),
    Case("add-foreign-key-referenced", T_AND_U,
         "ALTER TABLE public.t ADD CONSTRAINT t_a_fk FOREIGN KEY (a) REFERENCES public.u", "public.u", SRE,
         False, True, codes("scan"), "the referenced table also takes SHARE ROW EXCLUSIVE (writes blocked) and"
         " is read by the check's join"),
    Case("add-foreign-key-not-valid", T_AND_U,
         "ALTER TABLE public.t ADD CONSTRAINT t_a_fk FOREIGN KEY (a) REFERENCES public.u NOT VALID", "public.t",
         SRE, False, False, codes(), "SHARE ROW EXCLUSIVE on both tables, briefly; no scan"),
    Case("validate-foreign-key",
         T_AND_U + "ALTER TABLE public.t ADD CONSTRAINT t_a_fk FOREIGN KEY (a) REFERENCES public.u NOT VALID;",
         "ALTER TABLE public.t VALIDATE CONSTRAINT t_a_fk", "public.t", SUE, False, True, codes("scan"),
         "the referenced table takes ROW SHARE meanwhile"),
    # --- unique, primary key, indexes ---
    Case("add-unique", T, "ALTER TABLE public.t ADD CONSTRAINT t_id_key UNIQUE (id)", "public.t", AE, False,
         True, codes("index"), "the index is built under ACCESS EXCLUSIVE"),
    Case("add-primary-key-using-index", T + "CREATE UNIQUE INDEX t_id_idx ON public.t (id);",
         "ALTER TABLE public.t ADD CONSTRAINT t_pkey PRIMARY KEY USING INDEX t_id_idx", "public.t", AE, False,
         False, codes("lock"), "the column is NOT NULL already: no scan"),
    Case("add-primary-key-using-index-nullable", T + "CREATE UNIQUE INDEX t_a_idx ON public.t (a);",
         "ALTER TABLE public.t ADD CONSTRAINT t_pkey PRIMARY KEY USING INDEX t_a_idx", "public.t", AE, False,
         True, codes("scan"), "a nullable column is set NOT NULL, which scans for NULLs"),
    Case("create-index", T, "CREATE INDEX t_a ON public.t (a)", "public.t", SH, False, True, codes("index")),
    Case("create-index-concurrently", T, "CREATE INDEX CONCURRENTLY t_a ON public.t (a)", "public.t", SUE,
         False, True, codes()),
    Case("drop-index", T_INDEXED, "DROP INDEX public.t_a", "public.t", AE, False, False, codes("lock"),
         "ACCESS EXCLUSIVE on the index's table, not only on the index"),
    Case("drop-index-concurrently", T_INDEXED, "DROP INDEX CONCURRENTLY public.t_a", "public.t", SUE, False,
         False, codes()),
    Case("reindex-table", T_INDEXED, "REINDEX TABLE public.t", "public.t", SH, False, True, codes("index"),
         "SHARE on the table but ACCESS EXCLUSIVE on each index, so queries that plan on the table wait too"),
    Case("reindex-table-concurrently", T_INDEXED, "REINDEX TABLE CONCURRENTLY public.t", "public.t", SUE, False,
         True, codes()),
    Case("cluster", T_INDEXED, "CLUSTER public.t USING t_a", "public.t", AE, True, False,
         codes("rewrite")),
    Case("vacuum-full", T, "VACUUM FULL public.t", "public.t", AE, True, False, codes("rewrite")),
    # --- dropping data ---
    Case("drop-column", T, "ALTER TABLE public.t DROP COLUMN x", "public.t", AE, False, False,
         codes("data-loss")),
    Case("drop-table", T, "DROP TABLE public.t", "public.t", AE, False, False, codes("data-loss")),
    Case("truncate", T, "TRUNCATE public.t", "public.t", AE, True, False, codes("data-loss"),
         "the relfilenode changes (a new empty file), but nothing is copied: no rewrite hazard"),
    Case("delete-all-rows", T, "DELETE FROM public.t", "public.t", RE, False, True, codes("data-loss")),
    Case("update-all-rows", T, "UPDATE public.t SET x = NULL", "public.t", RE, False, True, codes("rewrite"),
         "a new version of every row, each row-locked to the end: a backfill is the usual intent, so it is sized "
         "as a rewrite rather than told as data loss"),
    # --- renames and enums ---
    Case("rename-column", T, "ALTER TABLE public.t RENAME COLUMN x TO y", "public.t", AE, False, False,
         codes("rename")),
    Case("rename-table", T, "ALTER TABLE public.t RENAME TO t2", "public.t", AE, False, False,
         codes("rename")),
    Case("enum-add-value", ENUM, "ALTER TYPE public.mood ADD VALUE 'ok'", "public.t", None, False, False,
         codes("enum"), "no lock on the tables using the type"),
    Case("enum-rename-value", ENUM, "ALTER TYPE public.mood RENAME VALUE 'sad' TO 'unhappy'", "public.t", None,
         False, False, codes("rename"), "no lock on the tables using the type"),
    # --- persistence and storage settings ---
    Case("set-unlogged", T, "ALTER TABLE public.t SET UNLOGGED", "public.t", AE, True, False,
         codes("rewrite")),
    Case("set-logged", T.replace("CREATE TABLE", "CREATE UNLOGGED TABLE"), "ALTER TABLE public.t SET LOGGED",
         "public.t", AE, True, False, codes("rewrite")),
    Case("set-fillfactor", T, "ALTER TABLE public.t SET (fillfactor = 70)", "public.t", SUE, False, False,
         codes(), "applies to pages written later: no rewrite"),
    Case("set-statistics", T, "ALTER TABLE public.t ALTER COLUMN a SET STATISTICS 500", "public.t", SUE, False,
         False, codes()),
    # --- triggers, comments ---
    Case("create-trigger", TRIGGER_FUNCTION,
         "CREATE TRIGGER t_touch BEFORE UPDATE ON public.t FOR EACH ROW EXECUTE FUNCTION public.touch()",
         "public.t", SRE, False, False, codes()),
    Case("disable-trigger", TRIGGER_FUNCTION + "CREATE TRIGGER t_touch BEFORE UPDATE ON public.t"
         " FOR EACH ROW EXECUTE FUNCTION public.touch();",
         "ALTER TABLE public.t DISABLE TRIGGER t_touch", "public.t", SRE, False, False, codes()),
    Case("comment-on-table", T, "COMMENT ON TABLE public.t IS 'rows'", "public.t", SUE, False, False, codes()),
    # --- partitions ---
    Case("attach-partition-with-check",
         PARTITIONS + "ALTER TABLE public.t ADD CONSTRAINT t_range"
         " CHECK (at >= '2024-01-01' AND at < '2024-02-01');",
         ATTACH, "public.t", AE, False, False, codes("lock"),
         "a valid CHECK implying the bounds skips the scan; the parent takes SHARE UPDATE EXCLUSIVE"),
    Case("attach-partition-without-check", PARTITIONS, ATTACH, "public.t", AE, False, True,
         codes("scan"), "the attached table is scanned for rows outside the bounds"),
]
