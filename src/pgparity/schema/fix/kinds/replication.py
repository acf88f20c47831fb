"""Logical replication: publications and the tables they publish, and subscriptions, which no migration creates."""

from __future__ import annotations

from dataclasses import dataclass, replace

from psycopg import sql

from pgparity.schema.diff import Node
from pgparity.schema.fix.handler import Handler, with_contents
from pgparity.schema.fix.lookup import Sides
from pgparity.schema.fix.phases import Action, Phase, Step
from pgparity.schema.fix.sqltext import literal, qualified, raw, step
from pgparity.schema.model import Model

EVERY_ACTION = ("insert", "update", "delete", "truncate")  # what a publication publishes unless told


def publication_ref(name: str) -> sql.Identifier:
    return sql.Identifier(name)


def member_text(member: Model) -> sql.Composed:
    """`public.users (email, id) WHERE (id > 0)`: the table as FOR TABLE and ADD TABLE name it."""
    columns = (sql.SQL(" ({})").format(sql.SQL(", ").join(map(sql.Identifier, member.columns)))
               if member.columns else sql.SQL(""))
    where = sql.SQL(" WHERE ({})").format(raw(member.row_filter)) if member.row_filter else sql.SQL("")
    return sql.SQL("{}{}{}").format(qualified(member), columns, where)


def for_clause(publication: Model) -> sql.Composable:
    """FOR ALL TABLES, or FOR TABLE a, b (x) WHERE (…), TABLES IN SCHEMA s: listed after one TABLE, as every
    major reads it."""
    if publication.all_tables:
        return sql.SQL(" FOR ALL TABLES")
    objects = []
    if publication.members:
        objects.append(sql.SQL("TABLE {}").format(sql.SQL(", ").join(map(member_text, publication.members))))
    if publication.schemas:
        schemas = sql.SQL(", ").join(map(sql.Identifier, publication.schemas))
        objects.append(sql.SQL("TABLES IN SCHEMA {}").format(schemas))
    return sql.SQL(" FOR {}").format(sql.SQL(", ").join(objects)) if objects else sql.SQL("")


def option_value(publication: Model, attribute: str) -> sql.Composable:
    value = getattr(publication, attribute)
    return literal(", ".join(value) if attribute == "publish" else value)


# Each WITH option of a publication and its default, which CREATE PUBLICATION leaves unsaid.
PUBLICATION_OPTIONS = {"publish": EVERY_ACTION, "publish_via_partition_root": False,
                       "publish_generated_columns": "none"}


def build_publication(node: Node, sides: Sides) -> tuple[Step, ...]:
    """The publication with its tables and schemas in one statement; its options only where not the default."""
    p = node.obj
    options = [sql.SQL("{} = {}").format(sql.SQL(name), option_value(p, name))
               for name, default in PUBLICATION_OPTIONS.items() if getattr(p, name) != default]
    with_options = sql.SQL(" WITH ({})").format(sql.SQL(", ").join(options)) if options else sql.SQL("")
    own = [step(Phase.PUBLICATION, "CREATE PUBLICATION {}{}{}", publication_ref(p.name), for_clause(p), with_options)]
    return with_contents(node, sides, own, inline=("publication_table",))


def remove_publication(node: Node, sides: Sides) -> tuple[Step, ...]:
    return (step(Phase.DROP_PUBLICATION, "DROP PUBLICATION {}", publication_ref(node.obj.name)),)


def schema_steps(source: Model, target: Model) -> tuple[Step, ...]:
    """ADD and DROP TABLES IN SCHEMA: the drops early, the additions once the schemas are there."""
    name = publication_ref(target.name)
    dropped = [step(Phase.DROP_PUBLICATION, "ALTER PUBLICATION {} DROP TABLES IN SCHEMA {}", name, sql.Identifier(s))
               for s in source.schemas if s not in target.schemas]
    added = [step(Phase.PUBLICATION, "ALTER PUBLICATION {} ADD TABLES IN SCHEMA {}", name, sql.Identifier(s))
             for s in target.schemas if s not in source.schemas]
    return (*dropped, *added)


def alter_publication(source: Node, target: Node, attribute: str, sides: Sides) -> Action | None:
    if attribute in PUBLICATION_OPTIONS:
        return Action((step(Phase.PUBLICATION, "ALTER PUBLICATION {} SET ({} = {})", publication_ref(target.obj.name),
                            sql.SQL(attribute), option_value(target.obj, attribute)),))
    if attribute == "schemas":
        return Action(schema_steps(source.obj, target.obj), note=superuser_note(target))
    return None  # FOR ALL TABLES on one side only: dropped and created


def superuser_note(node: Node) -> str | None:
    p = node.obj
    if p.all_tables or p.schemas:
        return (f"publication {p.name}: only a superuser may create a publication FOR ALL TABLES or TABLES IN "
                "SCHEMA, or add a schema to one")
    return None


def publication_named(node: Node) -> sql.Composable:
    return sql.SQL("PUBLICATION {}").format(publication_ref(node.obj.name))


@dataclass(frozen=True)
class PublicationHandler(Handler):
    """Its note is about creating it: dropping needs only its owner."""

    def drop(self, node: Node, sides: Sides) -> Action:
        return Action(self.remove(node, sides))


PUBLICATION = PublicationHandler(build_publication, remove_publication, alter_publication,
                                 comment_on=publication_named, note=superuser_note)


def replaced(member: Node, sides: Sides) -> bool:
    """Its publication is dropped and created on the other side's terms, which names its tables itself."""
    name = member.parent.obj.name
    found = [p for side in (sides.source, sides.target) for p in side.snapshot.publications if p.name == name]
    return len(found) == 2 and found[0].all_tables != found[1].all_tables


def build_member(node: Node, sides: Sides) -> tuple[Step, ...]:
    if replaced(node, sides):
        return ()
    return (step(Phase.PUBLICATION, "ALTER PUBLICATION {} ADD TABLE {}", publication_ref(node.parent.obj.name),
                 member_text(node.obj)),)


def remove_member(node: Node, sides: Sides) -> tuple[Step, ...]:
    if replaced(node, sides):
        return ()
    return (step(Phase.DROP_PUBLICATION, "ALTER PUBLICATION {} DROP TABLE {}", publication_ref(node.parent.obj.name),
                 qualified(node.obj)),)


# A column list or row filter that differs is the table dropped from the publication and added again, not SET
# TABLE: that replaces every table and schema of the publication, and the drop must come before a column of the
# old list is dropped while the addition must wait for a column of the new one to be added.
PUBLICATION_TABLE = Handler(build_member, remove_member)


# The major from which ALTER SUBSCRIPTION … SET takes each option; slot_name, on every major, is set on its own.
SUBSCRIPTION_OPTIONS = {"synchronous_commit": 13, "binary": 14, "streaming": 14, "disable_on_error": 15,
                        "origin": 16, "password_required": 16, "run_as_owner": 16}
# Options no migration changes: they alter the publisher's slot, which cannot be done in a transaction.
SLOT_OPTIONS = ("two_phase", "failover")


def subscription_ref(node: Node) -> sql.Identifier:
    return sql.Identifier(node.obj.name)


def state_step(node: Node) -> Step:
    return step(Phase.SUBSCRIPTION, f"ALTER SUBSCRIPTION {{}} {'ENABLE' if node.obj.enabled else 'DISABLE'}",
                subscription_ref(node))


def slot_step(node: Node, phase: Phase = Phase.SUBSCRIPTION) -> Step:
    slot = node.obj.slot_name
    return step(phase, "ALTER SUBSCRIPTION {} SET (slot_name = {})", subscription_ref(node),
                sql.SQL("NONE") if slot is None else literal(slot))


def disable_step(node: Node, phase: Phase = Phase.SUBSCRIPTION) -> Step:
    return step(phase, "ALTER SUBSCRIPTION {} DISABLE", subscription_ref(node))


def remove_subscription(node: Node, sides: Sides) -> tuple[Step, ...]:
    """Disabled and its slot unset first, so DROP SUBSCRIPTION neither connects to the publisher nor drops
    the slot there."""
    gone = Node(node.kind, replace(node.obj, slot_name=None), node.parent)
    return (disable_step(node, Phase.DROP_SUBSCRIPTION), slot_step(gone, Phase.DROP_SUBSCRIPTION),
            step(Phase.DROP_SUBSCRIPTION, "DROP SUBSCRIPTION {}", subscription_ref(node)))


def alter_subscription(source: Node, target: Node, attribute: str, sides: Sides) -> Action:
    s, major = target.obj, sides.source.snapshot.server.major
    if attribute == "enabled":
        # A slot name first, which enabling needs; the slot_name change writes the same statement, written once.
        first = (slot_step(target),) if s.enabled and source.obj.slot_name != s.slot_name else ()
        return Action((*first, state_step(target)))
    if attribute == "publications":
        return Action((step(Phase.SUBSCRIPTION, "ALTER SUBSCRIPTION {} SET PUBLICATION {} WITH (refresh = false)",
                            subscription_ref(target), sql.SQL(", ").join(map(sql.Identifier, s.publications))),),
                      note=f"subscription {s.name}: its publications are set without a refresh, which would connect "
                           f"to the publisher: run ALTER SUBSCRIPTION {s.name} REFRESH PUBLICATION where it can")
    if attribute == "slot_name":
        # Only a disabled subscription may be left without a slot; the enabled change disables it the same way.
        first = (disable_step(target),) if source.obj.enabled and s.slot_name is None else ()
        return Action((*first, slot_step(target)))
    value = getattr(s, attribute)
    why = unaltered(attribute, value, major)
    if why:
        return Action(note=f"subscription {s.name}: {attribute} is not changed by a migration: {why}; a superuser "
                           "changes it by hand (ALTER SUBSCRIPTION … SET), or creates the subscription again")
    return Action((step(Phase.SUBSCRIPTION, "ALTER SUBSCRIPTION {} SET ({} = {})", subscription_ref(target),
                        sql.SQL(attribute), literal(value)),))


def unaltered(attribute: str, value: object, major: int) -> str | None:
    """Why no migration sets this option to this value on a server of `major`, if none can."""
    if attribute in SLOT_OPTIONS:
        return "it is an option of the publisher's slot too, which a migration's transaction cannot alter"
    if value is None:
        return "the target's server lets only a superuser read it"
    if major < SUBSCRIPTION_OPTIONS[attribute] or value == "parallel" and major < 16:
        return f"PostgreSQL {major} has no such option or value"
    return None


def made_by_hand(node: Node) -> str:
    s = node.obj
    return (f"subscription {s.name}: no migration creates it, since CREATE SUBSCRIPTION needs the publisher's "
            "connection string, which pgparity never reads; a superuser creates it with CREATE SUBSCRIPTION "
            f"{s.name} CONNECTION '…' PUBLICATION {', '.join(s.publications)} and its options")


def slot_left(node: Node) -> str:
    slot = node.obj.slot_name
    if slot is None:
        return f"subscription {node.obj.name}: it holds no replication slot on its publisher"
    return (f"subscription {node.obj.name}: dropped without touching its publisher, so its replication slot {slot} "
            "stays there: drop it on the publisher (pg_drop_replication_slot) once nothing needs it")


def subscription_named(node: Node) -> sql.Composable:
    return sql.SQL("SUBSCRIPTION {}").format(subscription_ref(node))


@dataclass(frozen=True)
class SubscriptionHandler(Handler):
    """A subscription is only ever dropped or altered: creating one is explained, never written."""

    def create(self, node: Node, sides: Sides) -> Action:
        return Action(note=made_by_hand(node))

    def drop(self, node: Node, sides: Sides) -> Action:
        return Action(self.remove(node, sides), note=slot_left(node))


SUBSCRIPTION = SubscriptionHandler(lambda node, sides: (), remove_subscription, alter_subscription,
                                   comment_on=subscription_named)
