"""The statements of a fix, each in its phase: the one place that decides the order they run in."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum


class Phase(IntEnum):
    """Statement classes in the order a fix runs them: drops (dependents first), then creations."""

    SETUP = 0
    DROP_TRIGGER = 1  # triggers and policies: they name columns and functions
    DROP_VIEW = 2
    DROP_FOREIGN_KEY = 3
    DROP_CONSTRAINT = 4  # other constraints, and indexes
    DROP_DEFAULT = 5  # defaults, identities, generation expressions
    DROP_COLUMN = 6
    DROP_TABLE = 7
    DROP_FUNCTION = 8
    DROP_SEQUENCE = 9
    DROP_COMPOSITE = 10
    DROP_DOMAIN = 11
    DROP_ENUM = 12
    DROP_EXTENSION = 13
    DROP_SCHEMA = 14
    SCHEMA = 15
    ROLE = 16
    EXTENSION = 17
    ENUM = 18
    DOMAIN = 19
    COMPOSITE = 20
    FUNCTION = 21
    SEQUENCE = 22
    TABLE = 23
    ALTER_TABLE = 24
    ADD_COLUMN = 25
    COLUMN_TYPE = 26
    COLUMN_NULL = 27
    COLUMN_DEFAULT = 28  # also identities and generation
    COLUMN_STORAGE = 29  # storage, compression, statistics target: after the type, which resets storage
    SEQUENCE_OWNER = 30
    VIEW = 31
    CONSTRAINT = 32
    INDEX = 33
    REPLICA_IDENTITY = 34  # names an index, or a constraint's
    FOREIGN_KEY = 35
    VALIDATE = 36  # VALIDATE CONSTRAINT, once every constraint is there
    TRIGGER = 37
    POLICY = 38
    PRIVILEGE = 39
    DEFAULT_PRIVILEGE = 40  # after every object the fix makes, whose grants it spells out
    COMMENT = 41

    @property
    def drops(self) -> bool:
        return Phase.SETUP < self < Phase.SCHEMA

    @property
    def creates(self) -> bool:
        """Statements that fail where their object exists already (roles are guarded where they are made)."""
        return self >= Phase.SCHEMA and self not in IDEMPOTENT


# Statements that give the same result when their effect is there already.
IDEMPOTENT = frozenset({Phase.ROLE, Phase.ALTER_TABLE, Phase.COLUMN_TYPE, Phase.COLUMN_NULL, Phase.COLUMN_DEFAULT,
                        Phase.COLUMN_STORAGE, Phase.SEQUENCE_OWNER, Phase.REPLICA_IDENTITY, Phase.VALIDATE,
                        Phase.PRIVILEGE, Phase.DEFAULT_PRIVILEGE, Phase.COMMENT})
# What PostgreSQL raises when a statement creates what exists: a guarded statement then does nothing.
ALREADY_THERE = "duplicate_table OR duplicate_column OR duplicate_object OR duplicate_function OR duplicate_schema"


@dataclass(frozen=True)
class Step:
    phase: Phase
    sql: str


@dataclass(frozen=True)
class Narrowing:
    """Rows of the source that would make a statement fail; `query` counts them (None: it cannot)."""

    target: str  # "public.users.email"
    condition: str  # "longer than 255 characters": read as "N rows <condition>"
    query: str | None


@dataclass(frozen=True)
class Action:
    """The statements of one direction of a fix, and what a reader must know about them."""

    steps: tuple[Step, ...] = ()
    destructive: str | None = None  # why it may lose data; such steps are written commented out
    narrowing: tuple[Narrowing, ...] = ()
    note: str | None = None  # why nothing, or not everything, is done by a statement

    def __add__(self, other: Action) -> Action:
        return Action(
            self.steps + other.steps, joined(self.destructive, other.destructive),
            self.narrowing + other.narrowing, joined(self.note, other.note),
        )


def joined(first: str | None, second: str | None) -> str | None:
    return "; ".join(text for text in (first, second) if text) or None
