"""Inspect: a database's schema read from the system catalogs into a comparable Snapshot."""

from pgparity.schema.introspect import inspect
from pgparity.schema.model import Snapshot
from pgparity.schema.serialize import dump_snapshot, load_snapshot

__all__ = ["Snapshot", "dump_snapshot", "inspect", "load_snapshot"]
