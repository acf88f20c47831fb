"""Operators, operator families and operator classes."""

from __future__ import annotations

from psycopg import sql

from pgparity.identifiers import names
from pgparity.schema.diff import Node
from pgparity.schema.fix.handler import Handler, with_contents
from pgparity.schema.fix.lookup import Sides
from pgparity.schema.fix.phases import Action, Phase, Step
from pgparity.schema.fix.sqltext import qualified, raw, step
from pgparity.schema.model import Model


def operator_name(o: Model) -> sql.Composed:
    """`"public".===`: the schema an identifier, the operator's own characters as they are."""
    return sql.SQL("{}.{}").format(sql.Identifier(o.schema), raw(o.name))


def operator_ref(o: Model) -> sql.Composed:
    return sql.SQL("{} ({}, {})").format(operator_name(o), raw(o.left), raw(o.right))


def operator_of(regoperator: str) -> sql.Composed:
    """`OPERATOR(public.===)` from `public.===(integer,integer)`: the name, which the types resolve."""
    return sql.SQL("OPERATOR({})").format(raw(regoperator[:regoperator.index("(")]))


def build_operator(node: Node, sides: Sides) -> tuple[Step, ...]:
    o = node.obj
    options = [sql.SQL("FUNCTION = {}").format(raw(o.function))]
    options += [sql.SQL(f"{word} = {{}}").format(raw(t)) for word, t in (("LEFTARG", o.left), ("RIGHTARG", o.right))
                if t != "NONE"]
    options += [sql.SQL(f"{word} = {{}}").format(operator_of(op)) for word, op in
                (("COMMUTATOR", o.commutator), ("NEGATOR", o.negator)) if op is not None]
    options += [sql.SQL(f"{word} = {{}}").format(raw(f)) for word, f in (("RESTRICT", o.restrict), ("JOIN", o.join))
                if f is not None]
    options += [sql.SQL(word) for word, on in (("HASHES", o.hashes), ("MERGES", o.merges)) if on]
    own = [step(Phase.OPERATOR, "CREATE OPERATOR {} ({})", operator_name(o), sql.SQL(", ").join(options))]
    return with_contents(node, sides, own)


def remove_operator(node: Node, sides: Sides) -> tuple[Step, ...]:
    return (step(Phase.DROP_OPERATOR, "DROP OPERATOR {}", operator_ref(node.obj)),)


OPERATOR = Handler(build_operator, remove_operator,
                   comment_on=lambda node: sql.SQL("OPERATOR {}").format(operator_ref(node.obj)))


def using(obj: Model) -> sql.Composed:
    return sql.SQL("{} USING {}").format(qualified(obj), sql.Identifier(obj.method))


def member_items(obj: Model) -> list[sql.Composable]:
    """`OPERATOR 1 <(integer,integer)`, `FUNCTION 1 (integer, integer) btint4cmp(integer,integer)`."""
    return ([raw(f"OPERATOR {item}") for item in obj.operators]
            + [raw(f"FUNCTION {item}") for item in obj.functions])


def member_key(word: str, item: str) -> sql.Composable:
    """What ALTER OPERATOR FAMILY … DROP names a member by: its number and its operand types."""
    number, rest = item.split(" ", 1)
    types = rest[rest.index("("):rest.index(")") + 1]
    return raw(f"{word} {number} {types}")


def family_members(family: Model, added: list[sql.Composable]) -> tuple[Step, ...]:
    return (step(Phase.OPERATOR_FAMILY, "ALTER OPERATOR FAMILY {} ADD {}", using(family),
                 sql.SQL(", ").join(added)),) if added else ()


def build_family(node: Node, sides: Sides) -> tuple[Step, ...]:
    own = [step(Phase.OPERATOR_FAMILY, "CREATE OPERATOR FAMILY {}", using(node.obj)),
           *family_members(node.obj, member_items(node.obj))]
    return with_contents(node, sides, own)


def remove_family(node: Node, sides: Sides) -> tuple[Step, ...]:
    return (step(Phase.DROP_OPERATOR_FAMILY, "DROP OPERATOR FAMILY {}", using(node.obj)),)


def alter_family(source: Node, target: Node, attribute: str, sides: Sides) -> Action:
    """Members no class holds are added and dropped in place, so the family's classes stay."""
    s, t = source.obj, target.obj
    word = "OPERATOR" if attribute == "operators" else "FUNCTION"
    before, after = getattr(s, attribute), getattr(t, attribute)
    gone = [member_key(word, item) for item in before if item not in after]
    steps = [step(Phase.DROP_OPERATOR_FAMILY, "ALTER OPERATOR FAMILY {} DROP {}", using(s), sql.SQL(", ").join(gone))
             ] if gone else []
    steps += family_members(t, [raw(f"{word} {item}") for item in after if item not in before])
    return Action(tuple(steps))


OPERATOR_FAMILY = Handler(build_family, remove_family, alter_family,
                          comment_on=lambda node: sql.SQL("OPERATOR FAMILY {}").format(using(node.obj)))


def own_family(c: Model) -> bool:
    """Whether the class is in the family of its own name, which CREATE OPERATOR CLASS makes when missing."""
    return names(c.family) == (c.schema, c.name)


def build_class(node: Node, sides: Sides) -> tuple[Step, ...]:
    c = node.obj
    default = sql.SQL(" DEFAULT" if c.default else "")
    family = sql.SQL("") if own_family(c) else sql.SQL(" FAMILY {}").format(raw(c.family))
    # A class may hold no member of its own (cross-type ones belong to the family): the AS list then names
    # its storage, its own type when it has none other, which the server reads as no storage type.
    items = member_items(c)
    if c.storage or not items:
        items.append(sql.SQL("STORAGE {}").format(raw(c.storage or c.type)))
    own = [step(Phase.OPERATOR_CLASS, "CREATE OPERATOR CLASS {}{} FOR TYPE {} USING {}{} AS {}", qualified(c),
                default, raw(c.type), sql.Identifier(c.method), family, sql.SQL(", ").join(items))]
    return with_contents(node, sides, own)


def remove_class(node: Node, sides: Sides) -> tuple[Step, ...]:
    """The family the class was made with goes with it, unless it holds more than the class."""
    c = node.obj
    snapshot = sides.source.snapshot
    listed = any((f.schema, f.name, f.method) == (c.schema, c.name, c.method) for f in snapshot.operator_families)
    shared = any(o.family == c.family and o.method == c.method and o != c for o in snapshot.operator_classes)
    if own_family(c) and not listed and not shared:
        return (step(Phase.DROP_OPERATOR_CLASS, "DROP OPERATOR FAMILY {}", using(c)),)
    return (step(Phase.DROP_OPERATOR_CLASS, "DROP OPERATOR CLASS {}", using(c)),)


OPERATOR_CLASS = Handler(build_class, remove_class,
                         comment_on=lambda node: sql.SQL("OPERATOR CLASS {}").format(using(node.obj)))
