"""Schemas: a database read from its catalogs into a Snapshot (model, queries, introspect, serialize),
two snapshots compared into changes (diff), judged (verify), and turned into a migration (fix)."""
