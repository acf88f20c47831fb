"""Connections and whole-database operations: create, clone, rename, drop, read-only sessions."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

from pgparity.config import mask, mask_url
from pgparity.errors import DatabaseError

APPLICATION = "pgparity"
MAX_NAME = 63
READ_ONLY_OPTIONS = "-c default_transaction_read_only=on -c statement_timeout={ms} -c idle_in_transaction_session_timeout={ms}"


def with_database(url: str, database: str) -> str:
    """The same server URL pointing at another database."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + database))


def database_of(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


def connect(url: str, *, autocommit: bool = False, options: str | None = None,
            connect_timeout: int = 10, application: str = APPLICATION) -> psycopg.Connection:
    """A connection, or one DatabaseError line with the password masked."""
    try:
        conn = psycopg.connect(url, autocommit=autocommit, connect_timeout=connect_timeout,
                               application_name=application, **({"options": options} if options else {}))
    except psycopg.OperationalError as error:
        reason = " ".join(str(error).split())
        raise DatabaseError(f"cannot connect to {mask_url(url)}: {reason}") from None
    except psycopg.ProgrammingError as error:  # libpq cannot parse the URL; its message may quote the password
        reason = mask(" ".join(str(error).split()), [urlsplit(url).password or ""])
        raise DatabaseError(f"cannot parse the connection URL {mask_url(url)}: {reason}") from None
    conn.add_notice_handler(lambda notice: None)
    return conn


def connect_read_only(url: str, timeout_seconds: float = 60) -> psycopg.Connection:
    """A session that cannot write: read-only by default and per transaction, with a statement timeout.

    Used for production; the server itself rejects any write, whatever the role's privileges.
    """
    ms = int(timeout_seconds * 1000)
    conn = connect(url, options=READ_ONLY_OPTIONS.format(ms=ms))
    conn.read_only = True
    return conn


class Server:
    """Database-level administration through the server's maintenance database (autocommit)."""

    def __init__(self, url: str, application: str = APPLICATION, connect_timeout: int = 10):
        self.url = with_database(url, "postgres")
        self.conn = connect(self.url, autocommit=True, application=application, connect_timeout=connect_timeout)

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> "Server":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def holder(self, key: str) -> str | None:
        """The application_name of the session holding the advisory lock `key` (a one-bigint lock keeps the
        key's low 32 bits in objid)."""
        row = self.conn.execute(
            "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
            " WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1"
            " AND l.objid = (hashtext(%s)::bigint & 4294967295)::oid", (key,)).fetchone()
        return row[0] if row else None

    def url_for(self, database: str) -> str:
        return with_database(self.url, database)

    def names(self, prefix: str = "") -> list[str]:
        rows = self.conn.execute(
            "SELECT datname FROM pg_database WHERE starts_with(datname, %s) ORDER BY datname", (prefix,)
        ).fetchall()
        return [name for (name,) in rows]

    def exists(self, name: str) -> bool:
        return self.conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is not None

    def create(self, name: str, template: str | None = None) -> None:
        """Create a database, as a file-level copy of `template` when given (PostgreSQL 15 copies WAL
        block by block by default, which is slower for the many small files a schema makes)."""
        statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if template:
            statement += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
            if self.conn.info.server_version >= 150000:
                statement += sql.SQL(" STRATEGY FILE_COPY")
        self._retry_while_busy(statement)

    def drop(self, name: str) -> None:
        self.conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))

    def terminate(self, name: str) -> int:
        """End every other session on a database; how many there were."""
        rows = self.conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            (name,),
        ).fetchall()
        return len(rows)

    def rename_all(self, renames: list[tuple[str, str]]) -> None:
        """Rename several databases in one transaction: all happen or none does."""
        def run() -> None:
            with self.conn.transaction():
                for old, new in renames:
                    self.conn.execute(sql.SQL("ALTER DATABASE {} RENAME TO {}").format(
                        sql.Identifier(old), sql.Identifier(new)))
        self._retry_while_busy(run, terminate=[old for old, _ in renames])

    def _retry_while_busy(self, work: object, terminate: list[str] | None = None, attempts: int = 50) -> None:
        """Run a statement (or callable) that needs its databases free of other sessions.

        A client may reconnect between terminating it and the statement; retry briefly when that happens.
        """
        for attempt in range(attempts):
            for name in terminate or []:
                self.terminate(name)
            try:
                work() if callable(work) else self.conn.execute(work)
                return
            except psycopg.errors.ObjectInUse:
                if attempt == attempts - 1:
                    raise
                time.sleep(0.05)

    @contextmanager
    def advisory_lock(self, key: str, on_wait: Callable[[str | None], None] | None = None) -> Iterator[None]:
        """Hold a session lock named by `key`; a second holder waits, and `on_wait` hears the application_name
        of the session holding it (None when it is gone already). The server frees it if we die."""
        acquired = self.conn.execute("SELECT pg_try_advisory_lock(hashtext(%s))", (key,)).fetchone()[0]
        if not acquired:
            if on_wait:
                on_wait(self.holder(key))
            self.conn.execute("SELECT pg_advisory_lock(hashtext(%s))", (key,))
        try:
            yield
        finally:
            self.conn.execute("SELECT pg_advisory_unlock(hashtext(%s))", (key,))
