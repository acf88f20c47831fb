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

# config_tables: what pg_extension_config_dump marked for pg_dump, each table with its filter (extcondition).
EXTENSIONS = query("""
SELECT x.extname AS name, x.extversion AS version, n.nspname AS schema,
       ARRAY(SELECT c.oid::regclass::text || CASE WHEN u.filter <> '' THEN ' ' || u.filter ELSE '' END
             FROM unnest(x.extconfig, x.extcondition) AS u(oid, filter) JOIN pg_class c ON c.oid = u.oid
             ORDER BY 1) AS config_tables
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

def enabled(column: str) -> sql.Composed:
    """A trigger's, rule's or event trigger's state (its tgenabled, ev_enabled, evtenabled) by name."""
    return sql.SQL("CASE {} WHEN 'O' THEN 'origin' WHEN 'A' THEN 'always' WHEN 'R' THEN 'replica' "
                   "WHEN 'D' THEN 'disabled' END").format(sql.SQL(column))


# User triggers; the copies a partition gets from its parent's trigger are left out.
TRIGGERS = query("""
SELECT t.tgrelid AS parent, t.tgname AS name, pg_get_triggerdef(t.oid) AS definition,
       {enabled} AS enabled,
       comment_d.description AS comment
FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
     JOIN pg_namespace n ON n.oid = c.relnamespace {comment}
WHERE NOT t.tgisinternal AND t.tgparentid = 0 AND {visible}
""", comment=("pg_trigger", "t.oid"), enabled=enabled("t.tgenabled"))

# Extended statistics (CREATE STATISTICS); an expression's own kind ('e', from 14 on) follows from its definition.
# The default target is -1 before 17 and NULL from 17 on.
STATISTICS = query("""
SELECT s.stxrelid AS parent, n.nspname AS schema, s.stxname AS name,
       ARRAY(SELECT CASE k WHEN 'd' THEN 'ndistinct' WHEN 'f' THEN 'dependencies' WHEN 'm' THEN 'mcv' END
             FROM unnest(s.stxkind) WITH ORDINALITY AS u(k, i) WHERE k IN ('d', 'f', 'm') ORDER BY i) AS kinds,
       pg_get_statisticsobjdef(s.oid) AS definition, NULLIF(s.stxstattarget, -1)::int AS target,
       comment_d.description AS comment
FROM pg_statistic_ext s JOIN pg_namespace n ON n.oid = s.stxnamespace {comment}
WHERE {visible}
""", comment=("pg_statistic_ext", "s.oid"))

# Rules on tables and views, less each view's own ON SELECT rule (_RETURN), which is its definition.
RULES = query("""
SELECT r.ev_class AS parent, r.rulename AS name, pg_get_ruledef(r.oid) AS definition,
       {enabled} AS enabled,
       comment_d.description AS comment
FROM pg_rewrite r JOIN pg_class c ON c.oid = r.ev_class
     JOIN pg_namespace n ON n.oid = c.relnamespace {comment}
WHERE r.rulename <> '_RETURN' AND {visible}
""", comment=("pg_rewrite", "r.oid"), enabled=enabled("r.ev_enabled"))

# Event triggers are the database's, in no schema; CREATE EXTENSION's own are left out.
EVENT_TRIGGERS = query("""
SELECT et.evtname AS name, et.evtevent AS event, ARRAY(SELECT t FROM unnest(et.evttags) AS t ORDER BY 1) AS tags,
       et.evtfoid::regproc::text AS function,
       {enabled} AS enabled,
       pg_get_userbyid(et.evtowner) AS owner, comment_d.description AS comment
FROM pg_event_trigger et {comment}
WHERE {own}
""", member=("pg_event_trigger", "et.oid"), comment=("pg_event_trigger", "et.oid"),
    enabled=enabled("et.evtenabled"))

# Publications and what they publish. Before 15 a publication names no schemas and no column list or row
# filter (pg_publication_namespace, prattrs and prqual are 15's); before 18 it publishes no generated column.
PUBLICATIONS_QUERY = """
SELECT p.oid AS oid, p.pubname AS name, pg_get_userbyid(p.pubowner) AS owner, p.puballtables AS all_tables,
       array_remove(ARRAY[CASE WHEN p.pubinsert THEN 'insert' END, CASE WHEN p.pubupdate THEN 'update' END,
                          CASE WHEN p.pubdelete THEN 'delete' END, CASE WHEN p.pubtruncate THEN 'truncate' END],
                    NULL) AS publish,
       p.pubviaroot AS publish_via_partition_root, {generated} AS publish_generated_columns,
       {schemas} AS schemas, comment_d.description AS comment
FROM pg_publication p {comment}
WHERE {own}
"""
PUBLICATION_SCHEMAS_FROM = 150000
PUBLICATION_GENERATED_FROM = 180000

PUBLICATION_TABLES_QUERY = """
SELECT pr.prpubid AS parent, n.nspname AS schema, c.relname AS name, {columns} AS columns, {row_filter} AS row_filter
FROM pg_publication_rel pr JOIN pg_class c ON c.oid = pr.prrelid JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE {visible}
"""


def publications(version_num: int) -> sql.Composed:
    schemas = ("ARRAY(SELECT n.nspname::text FROM pg_publication_namespace pn JOIN pg_namespace n ON n.oid = pn.pnnspid"
               " WHERE pn.pnpubid = p.oid ORDER BY 1)" if version_num >= PUBLICATION_SCHEMAS_FROM else "'{}'::text[]")
    generated = ("CASE p.pubgencols WHEN 's' THEN 'stored' ELSE 'none' END"
                 if version_num >= PUBLICATION_GENERATED_FROM else "'none'")
    return query(PUBLICATIONS_QUERY, member=("pg_publication", "p.oid"), comment=("pg_publication", "p.oid"),
                 schemas=sql.SQL(schemas), generated=sql.SQL(generated))


def publication_tables(version_num: int) -> sql.Composed:
    if version_num >= PUBLICATION_SCHEMAS_FROM:
        columns = ("ARRAY(SELECT a.attname::text FROM pg_attribute a WHERE a.attrelid = pr.prrelid"
                   " AND a.attnum = ANY(pr.prattrs::int2[]) ORDER BY 1)")
        row_filter = "pg_get_expr(pr.prqual, pr.prrelid)"
    else:
        columns, row_filter = "'{}'::text[]", "NULL::text"
    return query(PUBLICATION_TABLES_QUERY, columns=sql.SQL(columns), row_filter=sql.SQL(row_filter))


# Subscriptions of this database only (pg_subscription is the cluster's), never subconninfo, which only a
# superuser may read. Each option from the major that has it; before, the value that major behaves by. On 13
# only a few columns are readable by other roles: not oid (so no comment), nor subsynccommit.
SUBSCRIPTIONS_QUERY = """
SELECT s.subname AS name, pg_get_userbyid(s.subowner) AS owner, s.subenabled AS enabled,
       ARRAY(SELECT p FROM unnest(s.subpublications) AS p ORDER BY 1) AS publications,
       s.subslotname::text AS slot_name, {synchronous_commit} AS synchronous_commit, {binary} AS binary,
       {streaming} AS streaming, {two_phase} AS two_phase, {disable_on_error} AS disable_on_error,
       {origin} AS origin, {password_required} AS password_required, {run_as_owner} AS run_as_owner,
       {failover} AS failover, {comment_text} AS comment
FROM pg_subscription s {comment}
WHERE s.subdbid = (SELECT oid FROM pg_database WHERE datname = current_database()) AND {own}
"""


def subscriptions(version_num: int) -> sql.Composed:
    def since(first: int, expression: str, before: str) -> sql.SQL:
        return sql.SQL(expression if version_num >= first * 10000 else before)

    streaming = since(16, "CASE s.substream WHEN 't' THEN 'on' WHEN 'p' THEN 'parallel' ELSE 'off' END",
                      "CASE WHEN s.substream THEN 'on' ELSE 'off' END" if version_num >= 140000 else "'off'")
    readable = version_num >= 140000  # oid and subsynccommit
    return query(
        SUBSCRIPTIONS_QUERY, member=("pg_subscription", "s.oid") if readable else None,
        comment=("pg_subscription", "s.oid") if readable else None,
        comment_text=since(14, "comment_d.description", "NULL::text"),
        synchronous_commit=since(14, "s.subsynccommit", "NULL::text"),
        binary=since(14, "s.subbinary", "false"), streaming=streaming,
        two_phase=since(15, "s.subtwophasestate <> 'd'", "false"),
        disable_on_error=since(15, "s.subdisableonerr", "false"),
        origin=since(16, "s.suborigin", "'any'"), password_required=since(16, "s.subpasswordrequired", "true"),
        run_as_owner=since(16, "s.subrunasowner", "false"), failover=since(17, "s.subfailover", "false"),
    )


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
    object_acl("pg_proc", "pro", "f", "o.prokind IN ('f', 'p', 'a')"),
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

def procedure_or_null(column: str) -> str:
    """A regproc column as its name (qualified where not visible), NULL for none (0)."""
    return f"CASE WHEN {column} <> 0 THEN {column}::text END"


# User aggregates: pg_proc rows of prokind 'a' with their pg_aggregate row. pg_dump's choice of which parts
# to spell out is followed: the final function's modify mode only with a final function.
AGGREGATES = query("""
SELECT p.oid AS oid, n.nspname AS schema, p.proname AS name,
       pg_get_function_identity_arguments(p.oid) AS arguments,
       CASE a.aggkind WHEN 'o' THEN 'ordered-set' WHEN 'h' THEN 'hypothetical' ELSE 'normal' END AS kind,
       a.aggtransfn::text AS state_function, format_type(a.aggtranstype, NULL) AS state_type,
       NULLIF(a.aggtransspace, 0) AS state_space,
       {final} AS final_function, a.aggfinalextra AS final_extra,
       CASE WHEN a.aggfinalfn <> 0 THEN
           CASE a.aggfinalmodify WHEN 'r' THEN 'read_only' WHEN 's' THEN 'shareable' ELSE 'read_write' END
       END AS final_modify,
       {combine} AS combine_function, {serial} AS serial_function, {deserial} AS deserial_function,
       a.agginitval AS initial_condition,
       CASE WHEN a.aggsortop <> 0 THEN a.aggsortop::regoper::text END AS sort_operator,
       CASE p.proparallel WHEN 's' THEN 'safe' WHEN 'r' THEN 'restricted' ELSE 'unsafe' END AS parallel,
       {moving} AS moving_state_function, {inverse} AS moving_inverse_function,
       CASE WHEN a.aggmtranstype <> 0 THEN format_type(a.aggmtranstype, NULL) END AS moving_state_type,
       {moving_final} AS moving_final_function, a.aggmfinalextra AS moving_final_extra,
       a.aggminitval AS moving_initial_condition,
       pg_get_userbyid(p.proowner) AS owner, comment_d.description AS comment
FROM pg_aggregate a JOIN pg_proc p ON p.oid = a.aggfnoid
     JOIN pg_namespace n ON n.oid = p.pronamespace {comment}
WHERE {visible} AND {own}
""", member=("pg_proc", "p.oid"), comment=("pg_proc", "p.oid"),
    **{name: sql.SQL(procedure_or_null(column)) for name, column in (
        ("final", "a.aggfinalfn"), ("combine", "a.aggcombinefn"), ("serial", "a.aggserialfn"),
        ("deserial", "a.aggdeserialfn"), ("moving", "a.aggmtransfn"), ("inverse", "a.aggminvtransfn"),
        ("moving_final", "a.aggmfinalfn"))})

# User casts: those initdb made have oids below FirstNormalObjectId; CREATE EXTENSION's are left out.
FIRST_NORMAL_OID = 16384
CASTS = query("""
SELECT format_type(c.castsource, NULL) AS source, format_type(c.casttarget, NULL) AS target,
       CASE c.castmethod WHEN 'f' THEN 'function' WHEN 'i' THEN 'inout' ELSE 'binary' END AS method,
       CASE WHEN c.castmethod = 'f' THEN c.castfunc::regprocedure::text END AS function,
       CASE c.castcontext WHEN 'e' THEN 'explicit' WHEN 'a' THEN 'assignment' ELSE 'implicit' END AS context,
       comment_d.description AS comment
FROM pg_cast c {comment}
WHERE c.oid >= {first} AND {own}
""", member=("pg_cast", "c.oid"), comment=("pg_cast", "c.oid"), first=sql.Literal(FIRST_NORMAL_OID))

# User collations. Where the locale is kept moved between majors: ICU's in collcollate before 15, in
# colliculocale in 15 and 16, in colllocale (ICU's and the builtin provider's) from 17 on; ICU rules from 16.
COLLATIONS_QUERY = """
SELECT n.nspname AS schema, c.collname AS name, pg_get_userbyid(c.collowner) AS owner,
       CASE c.collprovider WHEN 'c' THEN 'libc' WHEN 'i' THEN 'icu' WHEN 'b' THEN 'builtin' END AS provider,
       c.collisdeterministic AS deterministic,
       CASE WHEN c.collprovider = 'c' THEN c.collcollate::text END AS lc_collate,
       CASE WHEN c.collprovider = 'c' THEN c.collctype::text END AS lc_ctype,
       CASE WHEN c.collprovider <> 'c' THEN {locale}::text END AS locale, {rules}::text AS rules,
       comment_d.description AS comment
FROM pg_collation c JOIN pg_namespace n ON n.oid = c.collnamespace {comment}
WHERE c.collprovider <> 'd' AND {visible} AND {own}
"""
ICU_LOCALE_FROM = 150000  # server_version_num from which pg_collation has colliculocale
LOCALE_FROM = 170000  # ... colllocale, which replaces it
ICU_RULES_FROM = 160000  # ... collicurules


def collations(version_num: int) -> sql.Composed:
    """COLLATIONS_QUERY as a server of `version_num` can run it."""
    locale = ("c.colllocale" if version_num >= LOCALE_FROM else
              "c.colliculocale" if version_num >= ICU_LOCALE_FROM else "c.collcollate")
    rules = "c.collicurules" if version_num >= ICU_RULES_FROM else "NULL"
    return query(COLLATIONS_QUERY, member=("pg_collation", "c.oid"), comment=("pg_collation", "c.oid"),
                 locale=sql.SQL(locale), rules=sql.SQL(rules))


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

# Operators, operator classes and families, and text search objects. A shell operator (one a commutator
# named before it was defined) has no function and is left out: the operator naming it stands for it.
OPERATORS = query("""
SELECT n.nspname AS schema, o.oprname AS name,
       CASE WHEN o.oprleft = 0 THEN 'NONE' ELSE format_type(o.oprleft, NULL) END AS "left",
       CASE WHEN o.oprright = 0 THEN 'NONE' ELSE format_type(o.oprright, NULL) END AS "right",
       o.oprcode::regproc::text AS function,
       CASE WHEN o.oprcom <> 0 THEN o.oprcom::regoperator::text END AS commutator,
       CASE WHEN o.oprnegate <> 0 THEN o.oprnegate::regoperator::text END AS negator,
       CASE WHEN o.oprrest <> 0 THEN o.oprrest::regproc::text END AS restrict,
       CASE WHEN o.oprjoin <> 0 THEN o.oprjoin::regproc::text END AS "join",
       o.oprcanhash AS hashes, o.oprcanmerge AS merges, pg_get_userbyid(o.oprowner) AS owner,
       comment_d.description AS comment
FROM pg_operator o JOIN pg_namespace n ON n.oid = o.oprnamespace {comment}
WHERE o.oprcode <> 0 AND {visible} AND {own}
""", member=("pg_operator", "o.oid"), comment=("pg_operator", "o.oid"))


def qualified_name(namespace: str, name: str) -> str:
    """`schema.name` quoted as DDL takes it, from a catalog's namespace oid and name columns."""
    return (f"(SELECT quote_ident(qn.nspname) FROM pg_namespace qn WHERE qn.oid = {namespace})"
            f" || '.' || quote_ident({name})")


# A family's or class's members as ALTER OPERATOR FAMILY … ADD spells them; `{held}` says which: those an
# operator class holds (pg_depend 'i' on it, as CREATE OPERATOR CLASS records them) or the loose ones.
MEMBERS = """
ARRAY(SELECT m.amopstrategy || ' ' || m.amopopr::regoperator::text
             || CASE WHEN m.amoppurpose = 'o' THEN ' FOR ORDER BY ' || {sort_family} ELSE '' END
      FROM pg_amop m WHERE m.amopfamily = {family}
        AND {held} (SELECT FROM pg_depend h WHERE h.classid = 'pg_amop'::regclass AND h.objid = m.oid
                    AND h.refclassid = 'pg_opclass'::regclass AND h.deptype = 'i' {of_class})
      ORDER BY m.amopstrategy, 1) AS operators,
ARRAY(SELECT p.amprocnum || ' (' || format_type(p.amproclefttype, NULL) || ', '
             || format_type(p.amprocrighttype, NULL) || ') ' || p.amproc::regprocedure::text
      FROM pg_amproc p WHERE p.amprocfamily = {family}
        AND {held} (SELECT FROM pg_depend h WHERE h.classid = 'pg_amproc'::regclass AND h.objid = p.oid
                    AND h.refclassid = 'pg_opclass'::regclass AND h.deptype = 'i' {of_class})
      ORDER BY p.amprocnum, 1) AS functions"""


def members(family: str, held: bool, of_class: str = "") -> sql.Composed:
    return sql.SQL(MEMBERS).format(
        family=sql.SQL(family), held=sql.SQL("EXISTS" if held else "NOT EXISTS"),
        of_class=sql.SQL(f"AND h.refobjid = {of_class}" if of_class else ""),
        sort_family=sql.SQL("(SELECT quote_ident(sn.nspname) || '.' || quote_ident(s.opfname) FROM pg_opfamily s"
                            " JOIN pg_namespace sn ON sn.oid = s.opfnamespace WHERE s.oid = m.amopsortfamily)"),
    )


# A family CREATE OPERATOR CLASS made for itself (named as a class in it, holding no loose member) is the
# class's: left out, so a class missing on one side is one difference.
# MATERIALIZED: the members are read of the visible families only, not of every built-in one, which the
# planner would do were the outer condition pushed down into the scan of pg_opfamily.
OPERATOR_FAMILIES = query("""
WITH families AS MATERIALIZED (
    SELECT n.nspname AS schema, f.opfname AS name, a.amname AS method, {members},
           pg_get_userbyid(f.opfowner) AS owner, comment_d.description AS comment,
           EXISTS (SELECT FROM pg_opclass c WHERE c.opcfamily = f.oid AND c.opcname = f.opfname
                   AND c.opcnamespace = f.opfnamespace) AS named_by_class
    FROM pg_opfamily f JOIN pg_namespace n ON n.oid = f.opfnamespace JOIN pg_am a ON a.oid = f.opfmethod {comment}
    WHERE {visible} AND {own}
)
SELECT schema, name, method, operators, functions, owner, comment FROM families
WHERE NOT (named_by_class AND cardinality(operators) = 0 AND cardinality(functions) = 0)
""", member=("pg_opfamily", "f.oid"), comment=("pg_opfamily", "f.oid"), members=members("f.oid", held=False))

OPERATOR_CLASSES = query("""
SELECT n.nspname AS schema, c.opcname AS name, a.amname AS method, format_type(c.opcintype, NULL) AS type,
       c.opcdefault AS "default", {family} AS family,
       CASE WHEN c.opckeytype <> 0 THEN format_type(c.opckeytype, NULL) END AS storage, {members},
       pg_get_userbyid(c.opcowner) AS owner, comment_d.description AS comment
FROM pg_opclass c JOIN pg_namespace n ON n.oid = c.opcnamespace JOIN pg_am a ON a.oid = c.opcmethod
     JOIN pg_opfamily f ON f.oid = c.opcfamily {comment}
WHERE {visible} AND {own}
""", member=("pg_opclass", "c.oid"), comment=("pg_opclass", "c.oid"),
    family=sql.SQL(qualified_name("f.opfnamespace", "f.opfname")), members=members("f.oid", True, "c.oid"))

TEXT_SEARCH_PARSERS = query("""
SELECT n.nspname AS schema, p.prsname AS name, p.prsstart::regproc::text AS start,
       p.prstoken::regproc::text AS gettoken, p.prsend::regproc::text AS "end",
       p.prslextype::regproc::text AS lextypes,
       CASE WHEN p.prsheadline <> 0 THEN p.prsheadline::regproc::text END AS headline,
       comment_d.description AS comment
FROM pg_ts_parser p JOIN pg_namespace n ON n.oid = p.prsnamespace {comment}
WHERE {visible} AND {own}
""", member=("pg_ts_parser", "p.oid"), comment=("pg_ts_parser", "p.oid"))

TEXT_SEARCH_TEMPLATES = query("""
SELECT n.nspname AS schema, t.tmplname AS name,
       CASE WHEN t.tmplinit <> 0 THEN t.tmplinit::regproc::text END AS init,
       t.tmpllexize::regproc::text AS lexize, comment_d.description AS comment
FROM pg_ts_template t JOIN pg_namespace n ON n.oid = t.tmplnamespace {comment}
WHERE {visible} AND {own}
""", member=("pg_ts_template", "t.oid"), comment=("pg_ts_template", "t.oid"))

TEXT_SEARCH_DICTIONARIES = query("""
SELECT n.nspname AS schema, d.dictname AS name,
       (SELECT {template} FROM pg_ts_template t WHERE t.oid = d.dicttemplate) AS template,
       coalesce(d.dictinitoption, '') AS options,
       pg_get_userbyid(d.dictowner) AS owner, comment_d.description AS comment
FROM pg_ts_dict d JOIN pg_namespace n ON n.oid = d.dictnamespace {comment}
WHERE {visible} AND {own}
""", member=("pg_ts_dict", "d.oid"), comment=("pg_ts_dict", "d.oid"),
    template=sql.SQL(qualified_name("t.tmplnamespace", "t.tmplname")))

TEXT_SEARCH_CONFIGURATIONS = query("""
SELECT n.nspname AS schema, c.cfgname AS name,
       (SELECT {parser} FROM pg_ts_parser p WHERE p.oid = c.cfgparser) AS parser,
       ARRAY(SELECT t.alias || ': ' || string_agg(m.mapdict::regdictionary::text, ', ' ORDER BY m.mapseqno)
             FROM pg_ts_config_map m JOIN ts_token_type(c.cfgparser) t ON t.tokid = m.maptokentype
             WHERE m.mapcfg = c.oid GROUP BY t.alias ORDER BY t.alias) AS mapping,
       pg_get_userbyid(c.cfgowner) AS owner, comment_d.description AS comment
FROM pg_ts_config c JOIN pg_namespace n ON n.oid = c.cfgnamespace {comment}
WHERE {visible} AND {own}
""", member=("pg_ts_config", "c.oid"), comment=("pg_ts_config", "c.oid"),
    parser=sql.SQL(qualified_name("p.prsnamespace", "p.prsname")))

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

# The planner's statistics of each table, materialized view and index (numbers, never rows): what production's
# profile records so a migration's hazards can be sized. A partitioned table sums its leaf partitions.
SIZES = query("""
WITH leaves AS (
    SELECT c.oid, CASE WHEN c.relkind = 'p' THEN ARRAY(SELECT t.relid FROM pg_partition_tree(c.oid) t WHERE t.isleaf)
                       ELSE ARRAY[c.oid] END AS parts
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p', 'm', 'i') AND {visible} AND {own}
)
SELECT n.nspname AS schema, c.relname AS name,
       CASE c.relkind WHEN 'm' THEN 'materialized view' WHEN 'i' THEN 'index' ELSE 'table' END AS kind,
       CASE WHEN c.relkind = 'p' THEN coalesce((SELECT sum(greatest(p.reltuples, 0)) FROM pg_class p
                                                WHERE p.oid = ANY (l.parts)), 0)::bigint
            ELSE c.reltuples::bigint END AS rows,
       (SELECT coalesce(sum(p.relpages), 0) FROM pg_class p WHERE p.oid = ANY (l.parts))::bigint AS pages,
       (SELECT coalesce(sum(CASE WHEN c.relkind = 'i' THEN pg_relation_size(p.oid)
                                 ELSE pg_total_relation_size(p.oid) END), 0)
        FROM unnest(l.parts) AS p(oid))::bigint AS bytes,
       (SELECT t.relname FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid WHERE i.indexrelid = c.oid) AS "table"
FROM leaves l JOIN pg_class c ON c.oid = l.oid JOIN pg_namespace n ON n.oid = c.relnamespace
ORDER BY 1, 2
""", member=("pg_class", "c.oid"))
