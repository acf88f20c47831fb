"""Storage and view options (reloptions) of tables, views and indexes: given at creation, set and reset in place."""

from __future__ import annotations

from psycopg import sql

from pgparity.schema.fix.phases import Phase, Step
from pgparity.schema.fix.sqltext import literal, step


def parsed(options: tuple[str, ...]) -> dict[str, str]:
    """`("fillfactor=70", "toast.autovacuum_enabled=false")` as a dict, in the same order."""
    return {name: value for name, _, value in (option.partition("=") for option in options)}


def option_name(name: str) -> sql.Composed:
    """`fillfactor`, or `toast.autovacuum_enabled` for the TOAST table's own."""
    return sql.SQL(".").join(map(sql.Identifier, name.split(".")))


def assignments(options: dict[str, str]) -> sql.Composed:
    return sql.SQL(", ").join(sql.SQL("{} = {}").format(option_name(name), literal(value))
                              for name, value in options.items())


def with_options(options: tuple[str, ...]) -> sql.Composable:
    """The ` WITH (...)` of a CREATE, or nothing."""
    return sql.SQL(" WITH ({})").format(assignments(parsed(options))) if options else sql.SQL("")


def changed_options(word: str, ref: sql.Composable, source: tuple[str, ...], target: tuple[str, ...],
                    phase: Phase = Phase.ALTER_TABLE) -> tuple[Step, ...]:
    """ALTER <word> … SET the options that differ, RESET those only the source has."""
    old, new = parsed(source), parsed(target)
    changed = {name: value for name, value in new.items() if old.get(name) != value}
    gone = [option_name(name) for name in old if name not in new]
    steps = [step(phase, f"ALTER {word} {{}} SET ({{}})", ref, assignments(changed))] if changed else []
    steps += [step(phase, f"ALTER {word} {{}} RESET ({{}})", ref, sql.SQL(", ").join(gone))] if gone else []
    return tuple(steps)
