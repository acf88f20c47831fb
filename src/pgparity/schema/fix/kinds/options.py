"""Storage and view options (reloptions) of tables, views and indexes: given at creation, set and reset in place;
and the generic options of foreign data, listed as `name 'value'`."""

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


def option_list(options: dict[str, str]) -> sql.Composed:
    """Generic options (foreign data's) as OPTIONS (...) lists them: `name 'value', ...`."""
    return sql.SQL(", ").join(sql.SQL("{} {}").format(sql.Identifier(name), literal(value))
                              for name, value in options.items())


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


def with_generic_options(options: tuple[str, ...]) -> sql.Composable:
    """The ` OPTIONS (name 'value', ...)` of a CREATE, or nothing."""
    return sql.SQL(" OPTIONS ({})").format(option_list(parsed(options))) if options else sql.SQL("")


def changed_generic_options(source: tuple[str, ...], target: tuple[str, ...]) -> sql.Composable | None:
    """`OPTIONS (SET a 'x', ADD b 'y', DROP c)` taking the source's options to the target's; None if equal."""
    old, new = parsed(source), parsed(target)
    parts = [sql.SQL("SET {} {}" if name in old else "ADD {} {}").format(sql.Identifier(name), literal(value))
             for name, value in new.items() if old.get(name) != value]
    parts += [sql.SQL("DROP {}").format(sql.Identifier(name)) for name in old if name not in new]
    return sql.SQL("OPTIONS ({})").format(sql.SQL(", ").join(parts)) if parts else None
