"""One bulk catalog query per object kind; column aliases are the dataclass field names.

Child rows (columns, constraints, ...) carry `parent`, the oid of the object they belong to,
and are attached in Python. Every query only reads. `pg_get_*` and `format_type` output depends on
the session (search_path, TimeZone, DateStyle, ...), so introspect runs them with its settings pinned:
names come out schema-qualified and constants spelled the same way everywhere.
"""

from __future__ import annotations

from psycopg import sql

from pgparity.migrations.ledger import SCHEMA as LEDGER_SCHEMA
from pgparity.schema.model import HIDDEN

# Schemas whose objects are never part of a snapshot, besides pg_catalog, pg_toast and pg_temp_*.
HIDDEN_SCHEMAS = ("information_schema", LEDGER_SCHEMA)

SETTINGS = (
    "server_encoding", "TimeZone", "DateStyle", "default_text_search_config",
    "standard_conforming_strings",
)

VISIBLE = sql.SQL("n.nspname !~ '^pg_' AND n.nspname <> ALL(%(hidden)s)")


def not_extension_member(catalog: str, oid: str) -> sql.Composed:
    """Excludes objects created by CREATE EXTENSION (pg_depend deptype 'e')."""
    return sql.SQL(
        "NOT EXISTS (SELECT FROM pg_depend e WHERE e.classid = {}::regclass"
        " AND e.objid = {} AND e.deptype = 'e')"
    ).format(sql.Literal(catalog), sql.SQL(oid))


def comment_on(catalog: str, oid: str, subid: str = "0") -> sql.Composed:
    """A LEFT JOIN bringing the object's comment in as `comment`."""
    return sql.SQL(
        "LEFT JOIN pg_description comment_d ON comment_d.objoid = {} "
        "AND comment_d.classoid = {}::regclass AND comment_d.objsubid = {}"
    ).format(sql.SQL(oid), sql.Literal(catalog), sql.SQL(subid))


def fk_action(column: str) -> sql.Composed:
    """A foreign key's ON UPDATE / ON DELETE action code spelled as in DDL."""
    return sql.SQL(
        "CASE {} WHEN 'a' THEN 'NO ACTION' WHEN 'r' THEN 'RESTRICT' WHEN 'c' THEN 'CASCADE'"
        " WHEN 'n' THEN 'SET NULL' WHEN 'd' THEN 'SET DEFAULT' END"
    ).format(sql.SQL(column))


def query(
    text: str, *, member: tuple[str, str] | None = None, comment: tuple[str, ...] | None = None,
    **pieces: sql.Composable,
) -> sql.Composed:
    """Fills the shared pieces into a query: {visible}, {own} (not an extension's) and {comment}."""
    return sql.SQL(text).format(
        visible=VISIBLE,
        own=not_extension_member(*member) if member else sql.SQL("true"),
        comment=comment_on(*comment) if comment else sql.SQL(""),
        **pieces,
    )


SERVER = query("SELECT version() AS version, current_setting('server_version_num')::int AS version_num")

# What ALTER DATABASE and ALTER ROLE set for this database's sessions (pg_db_role_setting), one row a value.
CONFIGURED = """
configured AS (
    SELECT s.setrole, s.setdatabase, split_part(c, '=', 1) AS name, substr(c, strpos(c, '=') + 1) AS value
    FROM pg_db_role_setting s CROSS JOIN unnest(s.setconfig) AS c
    WHERE s.setdatabase IN (0, (SELECT oid FROM pg_database WHERE datname = current_database()))
)"""

# The fixed names by reset_val, the database's (or server's) value, not one this session may have SET;
# then every other name set for the database by its own text (a custom name has no pg_settings row).
# Set for this database and for all of them (ALTER ROLE ALL), the database's wins.
SETTING_ROWS = query("""
WITH {configured}
SELECT name, reset_val AS value FROM pg_settings WHERE name = ANY(%(settings)s)
UNION ALL
SELECT 'lc_collate', datcollate FROM pg_database WHERE datname = current_database()
UNION ALL
SELECT 'lc_ctype', datctype FROM pg_database WHERE datname = current_database()
UNION ALL
(SELECT DISTINCT ON (name) name, value FROM configured
 WHERE setrole = 0 AND name <> ALL(%(settings)s) ORDER BY name, setdatabase DESC)
""", configured=sql.SQL(CONFIGURED))

ROLE_SETTINGS = query("""
WITH {configured}
SELECT pg_get_userbyid(setrole) AS role, setdatabase <> 0 AS in_database, name, value
FROM configured WHERE setrole <> 0 AND pg_get_userbyid(setrole) !~ '^pg_'
""", configured=sql.SQL(CONFIGURED))

ROLES = query("""
SELECT rolname AS name, rolsuper AS superuser, rolcanlogin AS login, rolcreatedb AS createdb,
       rolcreaterole AS createrole, rolinherit AS inherit, rolreplication AS replication,
       rolbypassrls AS bypassrls
FROM pg_roles WHERE rolname !~ '^pg_'
""")

EXTENSIONS = query("""
SELECT x.extname AS name, x.extversion AS version, n.nspname AS schema
FROM pg_extension x JOIN pg_namespace n ON n.oid = x.extnamespace
""")

SCHEMAS = query("""
SELECT n.oid AS oid, n.nspname AS name, pg_get_userbyid(n.nspowner) AS owner, comment_d.description AS comment
FROM pg_namespace n {comment}
WHERE {visible} AND {own}
""", member=("pg_namespace", "n.oid"), comment=("pg_namespace", "n.oid"))

# A replica identity index dropped leaves relreplident 'i' naming no index: the server then logs no key,
# as NOTHING does.
TABLES = query("""
SELECT c.oid AS oid, n.nspname AS schema, c.relname AS name, pg_get_userbyid(c.relowner) AS owner,
       c.relpersistence = 'u' AS unlogged,
       CASE WHEN c.relkind = 'p' THEN pg_get_partkeydef(c.oid) END AS partition_key,
       ARRAY(SELECT i.inhparent::regclass::text FROM pg_inherits i
             WHERE i.inhrelid = c.oid ORDER BY i.inhseqno) AS parents,
       CASE WHEN c.relispartition THEN pg_get_expr(c.relpartbound, c.oid) END AS partition_bound,
       c.relrowsecurity AS rls_enabled, c.relforcerowsecurity AS rls_forced,
       comment_d.description AS comment,
       ARRAY(SELECT o FROM unnest(c.reloptions) AS o
             UNION ALL SELECT 'toast.' || o FROM pg_class tc, unnest(tc.reloptions) AS o WHERE tc.oid = c.reltoastrelid
             ORDER BY 1) AS options,
       CASE c.relreplident WHEN 'd' THEN 'default' WHEN 'f' THEN 'full' WHEN 'n' THEN 'nothing'
            ELSE coalesce('index ' || (SELECT ri.relname FROM pg_index i JOIN pg_class ri ON ri.oid = i.indexrelid
                                       WHERE i.indrelid = c.oid AND i.indisreplident), 'nothing')
       END AS replica_identity
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace {comment}
WHERE c.relkind IN ('r', 'p') AND {visible} AND {own}
""", member=("pg_class", "c.oid"), comment=("pg_class", "c.oid"))

VIEW_QUERY = """
SELECT c.oid AS oid, n.nspname AS schema, c.relname AS name, pg_get_userbyid(c.relowner) AS owner,
       pg_get_viewdef(c.oid) AS definition, comment_d.description AS comment, {options}
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace {comment}
WHERE c.relkind = {relkind} AND {visible} AND {own}
"""


def options(relation: str) -> sql.Composed:
    """A relation's reloptions as `options`, in name order."""
    return sql.SQL("ARRAY(SELECT o FROM unnest({}.reloptions) AS o ORDER BY 1) AS options").format(sql.SQL(relation))


def view_query(relkind: str) -> sql.Composed:
    return query(
        VIEW_QUERY, member=("pg_class", "c.oid"), comment=("pg_class", "c.oid"),
        relkind=sql.Literal(relkind), options=options("c"),
    )


VIEWS = view_query("v")
MATERIALIZED_VIEWS = view_query("m")

# Identity sequences are left out: their column's identity recreates them.
SEQUENCES = query("""
SELECT c.oid AS oid, n.nspname AS schema, c.relname AS name, pg_get_userbyid(c.relowner) AS owner,
       format_type(s.seqtypid, NULL) AS type, s.seqstart AS start, s.seqincrement AS increment,
       s.seqmin AS minimum, s.seqmax AS maximum, s.seqcache AS cache, s.seqcycle AS cycle,
       (SELECT d.refobjid::regclass::text || '.' || quote_ident(a.attname)
        FROM pg_depend d JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
        WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
          AND d.refclassid = 'pg_class'::regclass AND d.deptype = 'a') AS owned_by,
       comment_d.description AS comment
FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid
     JOIN pg_namespace n ON n.oid = c.relnamespace {comment}
WHERE {visible} AND {own}
  AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                  AND d.objid = c.oid AND d.deptype = 'i')
""", member=("pg_class", "c.oid"), comment=("pg_class", "c.oid"))

# Columns of tables, foreign tables and composite types. Inherited columns belong to the parent; attinhcount,
# not attislocal, tells them apart, since ATTACH PARTITION marks the partition's columns local.
# Storage, compression and the statistics target are kept only where set: storage other than the
# type's, compression other than the server's default (''), a target other than -1 (NULL from 17 on).
COLUMNS_QUERY = """
SELECT a.attrelid AS parent, a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type,
       NOT a.attnotnull AS nullable,
       CASE WHEN a.attgenerated = '' THEN pg_get_expr(ad.adbin, ad.adrelid) END AS default,
       CASE a.attidentity WHEN 'a' THEN 'always' WHEN 'd' THEN 'by default' END AS identity,
       CASE WHEN a.attgenerated <> '' THEN pg_get_expr(ad.adbin, ad.adrelid) END AS generated,
       a.attgenerated = 'v' AS virtual,
       CASE WHEN a.attcollation <> t.typcollation THEN a.attcollation::regcollation::text END AS collation,
       comment_d.description AS comment,
       CASE WHEN a.attstorage <> t.typstorage THEN
           CASE a.attstorage WHEN 'p' THEN 'plain' WHEN 'e' THEN 'external' WHEN 'm' THEN 'main'
                             WHEN 'x' THEN 'extended' END END AS storage,
       CASE {compression} WHEN 'p' THEN 'pglz' WHEN 'l' THEN 'lz4' END AS compression,
       NULLIF(a.attstattarget, -1)::int AS statistics,
       CASE WHEN a.attfdwoptions IS NOT NULL THEN ARRAY(SELECT o FROM unnest(a.attfdwoptions) AS o ORDER BY 1)
            ELSE '{{}}' END AS options
FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
     JOIN pg_namespace n ON n.oid = c.relnamespace
     JOIN pg_type t ON t.oid = a.atttypid
     LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum {comment}
WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p', 'c', 'f') AND a.attinhcount = 0
  AND {visible}
ORDER BY a.attrelid, a.attnum
"""
COMPRESSION_FROM = 140000  # server_version_num from which pg_attribute has attcompression


def columns(version_num: int) -> sql.Composed:
    """COLUMNS_QUERY as a server of `version_num` can run it: before 14 no column is compressed but by default."""
    compression = sql.SQL("a.attcompression" if version_num >= COMPRESSION_FROM else "''")
    return query(COLUMNS_QUERY, comment=("pg_class", "a.attrelid", "a.attnum"), compression=compression)

# Table and domain constraints; inherited ones (coninhcount, conparentid) belong to the parent.
CONSTRAINTS = query("""
SELECT CASE WHEN k.conrelid <> 0 THEN k.conrelid ELSE k.contypid END AS parent,
       k.conname AS name,
       CASE k.contype WHEN 'p' THEN 'primary key' WHEN 'u' THEN 'unique' WHEN 'c' THEN 'check'
                      WHEN 'f' THEN 'foreign key' WHEN 'x' THEN 'exclude' END AS type,
       pg_get_constraintdef(k.oid) AS definition,
       k.condeferrable AS deferrable, k.condeferred AS deferred,
       CASE WHEN k.contype = 'f' THEN {on_update} END AS on_update,
       CASE WHEN k.contype = 'f' THEN {on_delete} END AS on_delete,
       comment_d.description AS comment, k.convalidated AS validated
FROM pg_constraint k JOIN pg_namespace n ON n.oid = k.connamespace {comment}
WHERE k.contype IN ('p', 'u', 'c', 'f', 'x') AND k.conparentid = 0 AND k.coninhcount = 0
  AND {visible}
""", comment=("pg_constraint", "k.oid"), on_update=fk_action("k.confupdtype"),
    on_delete=fk_action("k.confdeltype"))

# Indexes that back no constraint and are not a partition's copy of its parent's index.
# `quoted_name` and `relation` let inspect strip "CREATE INDEX name ON table" from the definition.
INDEXES = query("""
SELECT i.indrelid AS parent, ic.relname AS name, i.indisunique AS "unique",
       pg_get_indexdef(i.indexrelid) AS definition, quote_ident(ic.relname) AS quoted_name,
       i.indrelid::regclass::text AS relation, comment_d.description AS comment, {options}
FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
     JOIN pg_namespace n ON n.oid = ic.relnamespace {comment}
WHERE {visible} AND NOT ic.relispartition
  AND NOT EXISTS (SELECT FROM pg_constraint k WHERE k.conindid = i.indexrelid
                  AND k.conrelid = i.indrelid AND k.contype IN ('p', 'u', 'x'))
""", comment=("pg_class", "i.indexrelid"), options=options("ic"))

# User triggers; the copies a partition gets from its parent's trigger are left out.
TRIGGERS = query("""
SELECT t.tgrelid AS parent, t.tgname AS name, pg_get_triggerdef(t.oid) AS definition,
       CASE t.tgenabled WHEN 'O' THEN 'origin' WHEN 'A' THEN 'always' WHEN 'R' THEN 'replica'
                        WHEN 'D' THEN 'disabled' END AS enabled,
       comment_d.description AS comment
FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
     JOIN pg_namespace n ON n.oid = c.relnamespace {comment}
WHERE NOT t.tgisinternal AND t.tgparentid = 0 AND {visible}
""", comment=("pg_trigger", "t.oid"))

# Event triggers are the database's, in no schema; CREATE EXTENSION's own are left out.
EVENT_TRIGGERS = query("""
SELECT et.evtname AS name, et.evtevent AS event, ARRAY(SELECT t FROM unnest(et.evttags) AS t ORDER BY 1) AS tags,
       et.evtfoid::regproc::text AS function,
       CASE et.evtenabled WHEN 'O' THEN 'origin' WHEN 'A' THEN 'always' WHEN 'R' THEN 'replica'
                          WHEN 'D' THEN 'disabled' END AS enabled,
       pg_get_userbyid(et.evtowner) AS owner, comment_d.description AS comment
FROM pg_event_trigger et {comment}
WHERE {own}
""", member=("pg_event_trigger", "et.oid"), comment=("pg_event_trigger", "et.oid"))

# Foreign-data wrappers, servers, user mappings and foreign tables. An extension's wrapper (postgres_fdw's) is
# left out, the servers made on it are not.
FOREIGN_DATA_WRAPPERS = query("""
SELECT w.oid AS oid, w.fdwname AS name,
       CASE WHEN w.fdwhandler <> 0 THEN w.fdwhandler::regproc::text END AS handler,
       CASE WHEN w.fdwvalidator <> 0 THEN w.fdwvalidator::regproc::text END AS validator,
       ARRAY(SELECT o FROM unnest(w.fdwoptions) AS o ORDER BY 1) AS options,
       pg_get_userbyid(w.fdwowner) AS owner, comment_d.description AS comment
FROM pg_foreign_data_wrapper w {comment}
WHERE {own}
""", member=("pg_foreign_data_wrapper", "w.oid"), comment=("pg_foreign_data_wrapper", "w.oid"))

FOREIGN_SERVERS = query("""
SELECT s.oid AS oid, s.srvname AS name, w.fdwname AS wrapper, s.srvtype AS type, s.srvversion AS version,
       ARRAY(SELECT o FROM unnest(s.srvoptions) AS o ORDER BY 1) AS options,
       pg_get_userbyid(s.srvowner) AS owner, comment_d.description AS comment
FROM pg_foreign_server s JOIN pg_foreign_data_wrapper w ON w.oid = s.srvfdw {comment}
WHERE {own}
""", member=("pg_foreign_server", "s.oid"), comment=("pg_foreign_server", "s.oid"))

# A user mapping's options name a password, a key or a token: their values are replaced here, on the
# server, so a secret never reaches the snapshot. pg_user_mapping itself is a superuser's to read; the
# pg_user_mappings view shows every mapping, its options to whoever may see them (else none).
SECRET_OPTION = "^passfile$|password|secret|token|key"
USER_MAPPINGS = query("""
SELECT m.srvname AS server, CASE WHEN m.umuser = 0 THEN 'PUBLIC' ELSE m.usename END AS "user",
       ARRAY(SELECT CASE WHEN split_part(o, '=', 1) ~* {secret} THEN split_part(o, '=', 1) || '=' || {hidden}
                         ELSE o END
             FROM unnest(m.umoptions) AS o ORDER BY 1) AS options
FROM pg_user_mappings m
""", secret=sql.Literal(SECRET_OPTION), hidden=sql.Literal(HIDDEN))

FOREIGN_TABLES = query("""
SELECT c.oid AS oid, n.nspname AS schema, c.relname AS name, pg_get_userbyid(c.relowner) AS owner,
       s.srvname AS server, ARRAY(SELECT o FROM unnest(f.ftoptions) AS o ORDER BY 1) AS options,
       comment_d.description AS comment
FROM pg_foreign_table f JOIN pg_class c ON c.oid = f.ftrelid JOIN pg_namespace n ON n.oid = c.relnamespace
     JOIN pg_foreign_server s ON s.oid = f.ftserver {comment}
WHERE {visible} AND {own}
""", member=("pg_class", "c.oid"), comment=("pg_class", "c.oid"))

POLICIES = query("""
SELECT p.polrelid AS parent, p.polname AS name,
       CASE p.polcmd WHEN '*' THEN 'ALL' WHEN 'r' THEN 'SELECT' WHEN 'a' THEN 'INSERT'
                     WHEN 'w' THEN 'UPDATE' WHEN 'd' THEN 'DELETE' END AS command,
       p.polpermissive AS permissive,
       ARRAY(SELECT CASE WHEN r = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(r) END
             FROM unnest(p.polroles) AS r ORDER BY 1) AS roles,
       pg_get_expr(p.polqual, p.polrelid) AS using,
       pg_get_expr(p.polwithcheck, p.polrelid) AS with_check,
       comment_d.description AS comment
FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid
     JOIN pg_namespace n ON n.oid = c.relnamespace {comment}
WHERE {visible}
""", comment=("pg_policy", "p.oid"))

GRANTEE = sql.SQL("CASE WHEN g.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(g.grantee) END")

# Relation and column grants; the owner's own privileges depend on who ran the DDL, so they are
# left out (a table nobody granted anything on has a NULL acl, which equals no rows here).
PRIVILEGES = query("""
SELECT c.oid AS parent, '' AS column, {grantee} AS grantee, g.privilege_type AS privilege,
       g.is_grantable AS grantable
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace, aclexplode(c.relacl) g
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') AND g.grantee <> c.relowner AND {visible}
UNION ALL
SELECT c.oid, a.attname, {grantee}, g.privilege_type, g.is_grantable
FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
     JOIN pg_namespace n ON n.oid = c.relnamespace, aclexplode(a.attacl) g
WHERE a.attacl IS NOT NULL AND NOT a.attisdropped AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
  AND g.grantee <> c.relowner AND {visible}
""", grantee=GRANTEE)

# Grants on schemas, functions and types, `parent` as their snapshot objects' oid. A NULL acl stands for
# the kind's default (acldefault), so an object never granted on and one whose grants were spelled out to
# the same effect compare equal; the owner's own entries are left out, as for relations.
OBJECT_ACL = """
SELECT {parent} AS parent, '' AS column, {grantee} AS grantee, g.privilege_type AS privilege,
       g.is_grantable AS grantable
FROM {catalog} o JOIN pg_namespace n ON n.oid = o.{namespace},
     aclexplode(coalesce(o.{acl}, acldefault({code}, o.{owner}))) g
WHERE g.grantee <> o.{owner} AND {visible} AND {own} AND {kind}
"""


def object_acl(catalog: str, column: str, code: str, kind: str = "true", parent: str = "o.oid") -> sql.Composed:
    """The ACL entries of one catalog's objects; `column` is its prefix (pro, typ, ...)."""
    namespace = "oid" if catalog == "pg_namespace" else column + "namespace"
    return query(
        OBJECT_ACL, member=(catalog, "o.oid"), grantee=GRANTEE, parent=sql.SQL(parent), catalog=sql.Identifier(catalog),
        namespace=sql.Identifier(namespace), acl=sql.Identifier(column + "acl"), owner=sql.Identifier(column + "owner"),
        code=sql.Literal(code), kind=sql.SQL(kind),
    )


# Grants on objects in no schema (foreign-data wrappers and servers), whose default grants PUBLIC nothing.
GLOBAL_ACL = """
SELECT o.oid AS parent, '' AS column, {grantee} AS grantee, g.privilege_type AS privilege,
       g.is_grantable AS grantable
FROM {catalog} o, aclexplode(o.{acl}) g
WHERE g.grantee <> o.{owner} AND {own}
"""


def global_acl(catalog: str, column: str) -> sql.Composed:
    return query(GLOBAL_ACL, member=(catalog, "o.oid"), grantee=GRANTEE, catalog=sql.Identifier(catalog),
                 acl=sql.Identifier(column + "acl"), owner=sql.Identifier(column + "owner"))


# A composite type's children point at its pg_class row, as its columns do; a table's row type is left out.
OBJECT_PRIVILEGES = sql.SQL("\nUNION ALL\n").join([
    object_acl("pg_namespace", "nsp", "n"),
    object_acl("pg_proc", "pro", "f", "o.prokind IN ('f', 'p')"),
    object_acl("pg_type", "typ", "T",
               "(o.typtype IN ('e', 'd') OR o.typtype = 'c' AND (SELECT r.relkind FROM pg_class r"
               " WHERE r.oid = o.typrelid) = 'c')",
               "CASE WHEN o.typtype = 'c' THEN o.typrelid ELSE o.oid END"),
    global_acl("pg_foreign_data_wrapper", "fdw"),
    global_acl("pg_foreign_server", "srv"),
])

# ALTER DEFAULT PRIVILEGES, as entries granted beyond the built-in defaults (acldefault of the role) and
# those defaults revoked. An entry for one schema only adds to the defaults for all (it cannot revoke).
# pg_default_acl spells sequences 'S', which acldefault reads as foreign servers: it takes 's'.
DEFAULT_PRIVILEGES = query("""
WITH d AS (
    SELECT d.defaclrole, d.defaclacl, coalesce(n.nspname, '') AS schema,
           CASE d.defaclobjtype WHEN 'r' THEN 'TABLES' WHEN 'S' THEN 'SEQUENCES' WHEN 'f' THEN 'FUNCTIONS'
                                WHEN 'T' THEN 'TYPES' WHEN 'n' THEN 'SCHEMAS' WHEN 'L' THEN 'LARGE OBJECTS' END
               AS objects,
           CASE WHEN d.defaclnamespace = 0
                THEN acldefault(CASE d.defaclobjtype WHEN 'S' THEN 's' ELSE d.defaclobjtype END, d.defaclrole)
           END AS builtin
    FROM pg_default_acl d LEFT JOIN pg_namespace n ON n.oid = d.defaclnamespace
)
SELECT pg_get_userbyid(d.defaclrole) AS role, d.schema, d.objects, {grantee} AS grantee,
       g.privilege_type AS privilege, true AS granted, g.is_grantable AS grantable
FROM d, aclexplode(d.defaclacl) g
WHERE NOT EXISTS (SELECT FROM aclexplode(d.builtin) b WHERE b.grantee = g.grantee
                  AND b.privilege_type = g.privilege_type AND b.is_grantable = g.is_grantable)
UNION ALL
SELECT pg_get_userbyid(d.defaclrole), d.schema, d.objects, {grantee}, g.privilege_type, false, false
FROM d, aclexplode(d.builtin) g
WHERE NOT EXISTS (SELECT FROM aclexplode(d.defaclacl) a WHERE a.grantee = g.grantee
                  AND a.privilege_type = g.privilege_type)
""", grantee=GRANTEE)

FUNCTIONS = query("""
SELECT p.oid AS oid, n.nspname AS schema, p.proname AS name,
       pg_get_function_identity_arguments(p.oid) AS arguments,
       CASE p.prokind WHEN 'p' THEN 'procedure' ELSE 'function' END AS kind,
       pg_get_function_result(p.oid) AS result, l.lanname AS language,
       CASE p.provolatile WHEN 'i' THEN 'immutable' WHEN 's' THEN 'stable' ELSE 'volatile' END
           AS volatility,
       p.proisstrict AS strict, p.prosecdef AS security_definer,
       pg_get_functiondef(p.oid) AS definition, pg_get_userbyid(p.proowner) AS owner,
       comment_d.description AS comment
FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
     JOIN pg_language l ON l.oid = p.prolang {comment}
WHERE p.prokind IN ('f', 'p') AND {visible} AND {own}
""", member=("pg_proc", "p.oid"), comment=("pg_proc", "p.oid"))

# The columns every user-defined type row starts with; `extra` adds the kind's own. `oid` is what
# the type's children point at: pg_attribute.attrelid for composites, contypid for domains.
TYPE_HEAD = """
SELECT CASE WHEN t.typtype = 'c' THEN t.typrelid ELSE t.oid END AS oid, n.nspname AS schema, t.typname AS name,
       pg_get_userbyid(t.typowner) AS owner, comment_d.description AS comment {extra}
FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace {joins} {comment}
WHERE {visible} AND {own} AND {kind}
"""


def type_query(kind: str, extra: str = "", joins: str = "") -> sql.Composed:
    return query(
        TYPE_HEAD, member=("pg_type", "t.oid"), comment=("pg_type", "t.oid"),
        kind=sql.SQL(kind), extra=sql.SQL(extra), joins=sql.SQL(joins),
    )


ENUMS = type_query(
    "t.typtype = 'e'",
    extra=", ARRAY(SELECT e.enumlabel FROM pg_enum e WHERE e.enumtypid = t.oid"
          " ORDER BY e.enumsortorder) AS labels",
)

DOMAINS = type_query(
    "t.typtype = 'd'",
    extra=", format_type(t.typbasetype, t.typtypmod) AS type, NOT t.typnotnull AS nullable,"
          " t.typdefault AS default,"
          " CASE WHEN t.typcollation <> b.typcollation THEN t.typcollation::regcollation::text END"
          " AS collation",
    joins="JOIN pg_type b ON b.oid = t.typbasetype",
)

COMPOSITES = type_query(
    "t.typtype = 'c' AND c.relkind = 'c'", joins="JOIN pg_class c ON c.oid = t.typrelid",
)

# The dump's view of production, read with DUMP_PARAMETERS: only pg_* and information_schema are hidden,
# since pg_dump dumps every other schema (pgparity's too) and the rows must follow it; the ledger the dump
# finds is left out of both by name instead. It differs from the snapshot's on purpose: the tables that
# hold rows are the partitions, not their partitioned parents, and every stored column counts, inherited
# ones included, generated ones not (the server recomputes them). Extensions' tables are left out, as in
# the snapshot: CREATE EXTENSION fills them. `unique`: a unique index's key or expression covers the column.
DUMP_HIDDEN_SCHEMAS = ("information_schema",)

STORED_COLUMNS = query("""
SELECT n.nspname AS schema, c.relname AS "table",
       (pg_relation_size(c.oid) / current_setting('block_size')::int)::int AS pages,
       a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type, t.typcategory = 'S' AS textual,
       t.typcategory IN ('A', 'C') AS composite, NOT a.attnotnull AS nullable,
       EXISTS (SELECT FROM pg_index i WHERE i.indrelid = c.oid AND i.indisunique
               AND (a.attnum = ANY ((i.indkey::int2[])[0:i.indnkeyatts - 1])
                    OR EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                               AND d.objid = i.indexrelid AND d.refclassid = 'pg_class'::regclass
                               AND d.refobjid = c.oid AND d.refobjsubid = a.attnum))) AS "unique"
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
     JOIN pg_type t ON t.oid = a.atttypid
WHERE c.relkind = 'r' AND {visible} AND {own}
ORDER BY n.nspname, c.relname, a.attnum
""", member=("pg_class", "c.oid"))

# Primary and foreign keys of the tables that hold rows, their columns in key order.
TABLE_KEYS = query("""
SELECT k.contype = 'p' AS "primary", n.nspname AS schema, c.relname AS "table",
       ARRAY(SELECT a.attname::text FROM unnest(k.conkey) WITH ORDINALITY AS u(attnum, position)
             JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.attnum ORDER BY u.position) AS columns,
       pn.nspname AS parent_schema, p.relname AS parent,
       ARRAY(SELECT a.attname::text FROM unnest(k.confkey) WITH ORDINALITY AS u(attnum, position)
             JOIN pg_attribute a ON a.attrelid = k.confrelid AND a.attnum = u.attnum ORDER BY u.position)
           AS parent_columns
FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
     LEFT JOIN pg_class p ON p.oid = k.confrelid LEFT JOIN pg_namespace pn ON pn.oid = p.relnamespace
WHERE k.contype IN ('p', 'f') AND c.relkind = 'r' AND {visible}
ORDER BY n.nspname, c.relname, k.conname
""")

# Each partition holding rows, and the partitioned table at the top of its tree.
PARTITION_ROOTS = query("""
SELECT n.nspname AS schema, c.relname AS name, rn.nspname AS root_schema, r.relname AS root
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     JOIN pg_class r ON r.oid = pg_partition_root(c.oid) JOIN pg_namespace rn ON rn.oid = r.relnamespace
WHERE c.relispartition AND c.relkind = 'r' AND {visible}
""")

# How many relations a restore target already holds: it must hold none.
USER_RELATIONS = query("""
SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') AND {visible}
""")
