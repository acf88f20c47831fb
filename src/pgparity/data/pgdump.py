"""pg_dump of production's schema, run in a one-off container of production's server version.

No client is needed on the host, and the dumped schema matches the server that wrote it. pg_dump reads
in the dump's exported snapshot, read-only, and leaves production's ledger out (see `bookkeeping`).
"""

from __future__ import annotations

import re

import docker
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from pgparity.config import mask_url
from pgparity.container.engine import published_host
from pgparity.container.oneoff import CLIENT_LABEL, OneOff
from pgparity.data.archive import SECTIONS
from pgparity.errors import DumpError

LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1"})


def client_network(url: str, engine_host: str) -> dict[str, str]:
    """Docker arguments that let a container reach the server of `url`.

    Inside a container 127.0.0.1 is the container itself; a server on the host's loopback (a tunnel, or
    a container published on 127.0.0.1 only, which the host-gateway address does not reach) is reached
    from the host's network namespace, which is this machine's only when the engine (`engine_host`, see
    engine.published_host) is local. Other hosts are reached from the default bridge, as from the host.
    """
    hosts = [host for host in conninfo_to_dict(url).get("host", "").split(",") if host]
    if not hosts or any(host.startswith("/") for host in hosts):
        raise DumpError(f"{mask_url(url)} connects through a Unix socket, which a container cannot reach; "
                        "give PGPARITY_PROD_URL a TCP host")
    if not any(host in LOOPBACK for host in hosts):
        return {}
    if engine_host != "127.0.0.1":
        raise DumpError(f"{mask_url(url)} points at this machine's loopback, but Docker runs on "
                        f"{engine_host}; use an address that machine can reach")
    return {"network_mode": "host"}


def pg_dump_command(url: str, section: str, snapshot: str, left_out: Bookkeeping = None
                    ) -> tuple[list[str], dict[str, str]]:
    """pg_dump's arguments and environment: read-only session, the given snapshot, password not in argv;
    production's ledger tables (`left_out`) are not dumped: the manifest records where production stands."""
    params = conninfo_to_dict(url)
    password = params.pop("password", None)
    params["options"] = f"{params.get('options', '')} -c default_transaction_read_only=on".strip()
    params["application_name"] = "pgparity-dump"
    argv = ["pg_dump", f"--section={section}", f"--snapshot={snapshot}", "--encoding=UTF8", "--no-owner",
            "--no-tablespaces", "--no-security-labels", "--no-publications",
            "--no-subscriptions", *exclusions(left_out), f"--dbname={make_conninfo(**params)}"]
    return argv, ({"PGPASSWORD": password} if password else {})


Bookkeeping = tuple[frozenset[str], frozenset[str]] | None  # the qualified tables and the schemas of a ledger


def exclusions(left_out: Bookkeeping) -> list[str]:
    """pg_dump options leaving out a ledger's tables and schemas, as exact (quoted) patterns."""
    if not left_out:
        return []
    tables, schemas = left_out
    quoted = [".".join(f'"{part}"' for part in table.split(".", 1)) for table in sorted(tables)]
    return [f"--exclude-table={table}" for table in quoted] + [f'--exclude-schema="{schema}"' for schema in sorted(schemas)]


def bookkeeping(name: str, left_out: Bookkeeping) -> bool:
    """Whether the qualified table or sequence `name` belongs to the ledger."""
    if not left_out:
        return False
    tables, schemas = left_out
    return name in tables or name.split(".", 1)[0] in schemas


_RESTRICT = re.compile(rb"^\\restrict (\S+)\n", re.MULTILINE)


def plain_sql(script: bytes) -> bytes:
    """pg_dump's output without psql's `\\restrict KEY` / `\\unrestrict KEY` guard lines.

    pg_dump 15.14 and later wrap plain output in them; restore sends the SQL without psql, and the key is
    random per run, which would make two dumps of the same data differ.
    """
    match = _RESTRICT.search(script)
    if not match:
        return script
    key = re.escape(match.group(1))
    return re.sub(rb"^\\(?:un)?restrict " + key + rb"\n", b"", script, flags=re.MULTILINE)


def dump_schema(client: docker.DockerClient, image: str, url: str, environment: str, snapshot: str,
                left_out: Bookkeeping) -> dict[str, bytes]:
    """Each section's SQL by archive member; DumpError with pg_dump's error lines when it fails."""
    network = client_network(url, published_host(client))
    with OneOff(client, image, "pg_dump", {CLIENT_LABEL: environment}, **network) as container:
        scripts = {}
        for member, section in SECTIONS:
            argv, environment_variables = pg_dump_command(url, section, snapshot, left_out)
            finished = container.exec(argv, environment_variables)
            if finished.code:
                raise DumpError(f"{argv[0]} in {image} failed (exit {finished.code}): {finished.errors()}")
            scripts[member] = plain_sql(finished.stdout)
        return scripts
