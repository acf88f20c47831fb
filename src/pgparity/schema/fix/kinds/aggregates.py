"""Aggregates: made with CREATE AGGREGATE from their parts, dropped and made again when a part differs."""

from __future__ import annotations

from psycopg import sql

from pgparity.schema.diff import Node
from pgparity.schema.fix.handler import Handler, dropping, with_contents
from pgparity.schema.fix.lookup import Sides
from pgparity.schema.fix.phases import Phase, Step
from pgparity.schema.fix.sqltext import literal, qualified, raw, step
from pgparity.schema.model import Model


def signature(a: Model) -> sql.Composed:
    """`public.total(integer)`, `public.median(ORDER BY integer)`; one of no arguments takes `(*)`."""
    return sql.SQL("{}({})").format(qualified(a), raw(a.arguments or "*"))


def aggregate_ref(a: Model) -> sql.Composed:
    """What DROP and COMMENT ON name: `AGGREGATE public.total(integer)`."""
    return sql.SQL("AGGREGATE {}").format(signature(a))


def aggregate_as_function(a: Model) -> sql.Composed:
    """What GRANT … ON names: a function's argument list, all the types in order (no ORDER BY). The server
    prints a variadic argument that is both direct and aggregated twice (`VARIADIC "any" ORDER BY VARIADIC
    "any"`): it is one argument."""
    direct, _, aggregated = (part.strip() for part in a.arguments.partition("ORDER BY "))
    if aggregated.startswith("VARIADIC ") and direct == aggregated:
        aggregated = ""
    arguments = ", ".join(part for part in (direct, aggregated) if part)
    return sql.SQL("FUNCTION {}({})").format(qualified(a), raw(arguments))


def operator(name: str) -> str:
    """A sort operator as the definition list takes it: a qualified one inside OPERATOR()."""
    return f"OPERATOR({name})" if "." in name else name


def parts(a: Model) -> list[sql.Composable]:
    """The definition list, each part as CREATE AGGREGATE spells it, the optional ones where set."""
    def part(name: str, value: sql.Composable) -> sql.Composed:
        return sql.SQL(name + " = {}").format(value)
    found = [part("SFUNC", raw(a.state_function)), part("STYPE", raw(a.state_type))]
    if a.state_space is not None:
        found.append(part("SSPACE", literal(a.state_space)))
    if a.final_function is not None:
        found.append(part("FINALFUNC", raw(a.final_function)))
        if a.final_extra:
            found.append(sql.SQL("FINALFUNC_EXTRA"))
        found.append(part("FINALFUNC_MODIFY", sql.SQL(a.final_modify.upper())))
    for name, value in (("COMBINEFUNC", a.combine_function), ("SERIALFUNC", a.serial_function),
                        ("DESERIALFUNC", a.deserial_function)):
        if value is not None:
            found.append(part(name, raw(value)))
    if a.initial_condition is not None:
        found.append(part("INITCOND", literal(a.initial_condition)))
    if a.moving_state_function is not None:
        found += [part("MSFUNC", raw(a.moving_state_function)), part("MINVFUNC", raw(a.moving_inverse_function)),
                  part("MSTYPE", raw(a.moving_state_type))]
        if a.moving_final_function is not None:
            found.append(part("MFINALFUNC", raw(a.moving_final_function)))
            if a.moving_final_extra:
                found.append(sql.SQL("MFINALFUNC_EXTRA"))
        if a.moving_initial_condition is not None:
            found.append(part("MINITCOND", literal(a.moving_initial_condition)))
    if a.sort_operator is not None:
        found.append(part("SORTOP", raw(operator(a.sort_operator))))
    found.append(part("PARALLEL", sql.SQL(a.parallel.upper())))
    if a.kind == "hypothetical":
        found.append(sql.SQL("HYPOTHETICAL"))
    return found


def build_aggregate(node: Node, sides: Sides) -> tuple[Step, ...]:
    a = node.obj
    own = step(Phase.AGGREGATE, "CREATE AGGREGATE {} ({})", signature(a), sql.SQL(", ").join(parts(a)))
    return with_contents(node, sides, [own])


AGGREGATE = Handler(build_aggregate, dropping(Phase.DROP_AGGREGATE, "DROP {}", aggregate_ref),
                    comment_on=lambda node: aggregate_ref(node.obj))
