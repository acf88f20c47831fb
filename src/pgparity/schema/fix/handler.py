"""What a DDL module gives for its kind of object: a Handler, and the helpers every kind shares."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from psycopg import sql

from pgparity.schema import diff
from pgparity.schema.diff import Node
from pgparity.schema.fix.lookup import Sides, label
from pgparity.schema.fix.phases import Action, Narrowing, Phase, Step, joined
from pgparity.schema.fix.sqltext import literal, qualified, step
from pgparity.schema.model import Model


def keeps_no_data(node: Node, sides: Sides) -> None:
    return None


def no_narrowing(node: Node, sides: Sides) -> tuple[Narrowing, ...]:
    return ()


def no_note(node: Node) -> str | None:
    return None


@dataclass(frozen=True)
class Handler:
    """How one kind of object is created, dropped, changed and commented on; both directions share it."""

    build: Callable[[Node, Sides], tuple[Step, ...]]  # the object with everything it holds
    remove: Callable[[Node, Sides], tuple[Step, ...]]
    # None: drop and create; so is an alter that returns None for this attribute.
    alter: Callable[[Node, Node, str, Sides], Action | None] | None = None
    holds_data: Callable[[Node, Sides], str | None] = keeps_no_data  # why dropping it loses data
    narrowing: Callable[[Node, Sides], tuple[Narrowing, ...]] = no_narrowing  # creating it on rows
    comment_on: Callable[[Node], sql.Composable] | None = None  # what COMMENT ON names; None: no comments
    note: Callable[[Node], str | None] = no_note  # what a reader must know to run its statements
    # Only a superuser may create, alter or drop it: a managed service's migration role cannot.
    superuser: bool = False

    def made(self, node: Node, sides: Sides) -> tuple[Step, ...]:
        """The object built, then given its owner where owners are compared."""
        return self.build(node, sides) + (self.owned(node, sides) if sides.owners else ())

    def owned(self, node: Node, sides: Sides) -> tuple[Step, ...]:
        """ALTER … OWNER TO the node's owner; nothing for an object without one, or a sequence owned by a
        column, whose table's owner it follows."""
        owner = getattr(node.obj, diff.OWNER, None)
        if owner is None or self.comment_on is None or getattr(node.obj, "owned_by", None):
            return ()
        from pgparity.schema.fix.kinds.access import role_steps
        return (*role_steps([owner], sides),
                step(Phase.OWNER, "ALTER {} OWNER TO {}", self.comment_on(node), sql.Identifier(owner)))

    def notes(self, node: Node) -> str | None:
        """The kind's note, and for a kind only a superuser may make, change or drop, who must run it."""
        told = self.note(node)
        if not self.superuser:
            return told
        who = (f"{node.kind.replace('_', ' ')} {label(node)}: only a superuser may create, alter or drop it; where "
               "the role applying migrations is not one, a superuser runs these statements")
        return joined(told, who)

    def create(self, node: Node, sides: Sides) -> Action:
        return Action(self.made(node, sides), narrowing=self.narrowing(node, sides), note=self.notes(node))

    def drop(self, node: Node, sides: Sides) -> Action:
        return Action(self.remove(node, sides), destructive=self.holds_data(node, sides), note=self.notes(node))

    def change(self, source: Node, target: Node, attribute: str, sides: Sides) -> Action:
        if attribute == diff.OWNER:
            steps = self.owned(target, sides)
            return Action(steps, note=None if steps else "a sequence owned by a column follows its table's owner")
        altered = None if self.alter is None else self.alter(source, target, attribute, sides)
        if altered is None:
            return self.replace(source, target, sides)
        return altered + Action(note=self.notes(target)) if self.superuser else altered

    def replace(self, source: Node, target: Node, sides: Sides) -> Action:
        return self.drop(source, sides) + self.create(target, sides)


def handler_of(kind: str) -> Handler:
    """The registry is read when a statement is made: it imports every DDL module, which import this one."""
    from pgparity.schema.fix.handlers import HANDLERS
    return HANDLERS[kind]


def dropping(phase: Phase, template: str, ref: Callable[[Model], sql.Composable] = qualified):
    """The remover of an object dropped by one statement naming it."""
    return lambda node, sides: (step(phase, template, ref(node.obj)),)


def dropped_on_parent(template: str, phase: Phase) -> Callable[[Node, Sides], tuple[Step, ...]]:
    """DROP TRIGGER and DROP POLICY: the object's name, then its table's."""
    return lambda node, sides: (step(phase, template, sql.Identifier(node.obj.name), qualified(node.parent.obj)),)


def with_contents(node: Node, sides: Sides, own: Iterable[Step], inline: tuple[str, ...] = ()) -> tuple[Step, ...]:
    """The object's statements, its comment, then its children's; `inline` kinds are in its own."""
    steps = [*own, *comment_steps(node)]
    for child in diff.children(node):
        steps += comment_steps(child) if child.kind in inline else handler_of(child.kind).made(child, sides)
    return tuple(steps)


def comment_step(node: Node, text: str | None) -> Step:
    value = sql.SQL("NULL") if text is None else literal(text)
    return step(Phase.COMMENT, "COMMENT ON {} IS {}", handler_of(node.kind).comment_on(node), value)


def comment_steps(node: Node) -> tuple[Step, ...]:
    text = getattr(node.obj, "comment", None)
    return () if text is None else (comment_step(node, text),)


def commented_as(word: str) -> Callable[[Node], sql.Composable]:
    """COMMENT ON TABLE public.users, ON VIEW ..., ON TYPE ...: the word, then the qualified name."""
    return lambda node: sql.SQL(word + " {}").format(qualified(node.obj))


def commented_on_parent(word: str) -> Callable[[Node], sql.Composable]:
    """COMMENT ON TRIGGER t ON public.users, ON CONSTRAINT c ON DOMAIN public.d: the name, then its parent."""
    def target(node: Node) -> sql.Composable:
        on = "ON DOMAIN" if node.parent.kind == "domain" else "ON"
        return sql.SQL(word + " {} " + on + " {}").format(sql.Identifier(node.obj.name), qualified(node.parent.obj))
    return target
