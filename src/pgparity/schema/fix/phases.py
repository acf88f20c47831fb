"""The statements of a fix, each in its phase: the one place that decides the order they run in."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum, auto


class Phase(IntEnum):
    """Statement classes in the order a fix runs them: drops (dependents first), then creations. The order
    of declaration is the order; a new class is one line in its place."""

    SETUP = auto()
    DROP_TRIGGER = auto()  # triggers and policies: they name columns and functions
    DROP_VIEW = auto()
    DROP_FOREIGN_KEY = auto()
    DROP_CONSTRAINT = auto()  # other constraints, and indexes
    DROP_DEFAULT = auto()  # defaults, identities, generation expressions
    DROP_COLUMN = auto()
    DROP_TABLE = auto()  # also foreign tables
    DROP_USER_MAPPING = auto()
    DROP_SERVER = auto()
    DROP_WRAPPER = auto()
    DROP_FUNCTION = auto()
    DROP_SEQUENCE = auto()
    DROP_COMPOSITE = auto()
    DROP_DOMAIN = auto()
    DROP_ENUM = auto()
    DROP_EXTENSION = auto()
    DROP_SCHEMA = auto()
    SCHEMA = auto()
    ROLE = auto()
    EXTENSION = auto()
    ENUM = auto()
    DOMAIN = auto()
    COMPOSITE = auto()
    FUNCTION = auto()
    WRAPPER = auto()  # foreign-data wrappers name their handler and validator functions
    SERVER = auto()
    USER_MAPPING = auto()
    SEQUENCE = auto()
    TABLE = auto()  # also foreign tables, which name their server
    ALTER_TABLE = auto()
    ADD_COLUMN = auto()
    COLUMN_TYPE = auto()
    COLUMN_NULL = auto()
    COLUMN_DEFAULT = auto()  # also identities and generation
    COLUMN_STORAGE = auto()  # storage, compression, statistics target: after the type, which resets storage
    SEQUENCE_OWNER = auto()
    VIEW = auto()
    CONSTRAINT = auto()
    INDEX = auto()
    REPLICA_IDENTITY = auto()  # names an index, or a constraint's
    FOREIGN_KEY = auto()
    VALIDATE = auto()  # VALIDATE CONSTRAINT, once every constraint is there
    TRIGGER = auto()
    POLICY = auto()
    PRIVILEGE = auto()
    DEFAULT_PRIVILEGE = auto()  # after every object the fix makes, whose grants it spells out
    COMMENT = auto()

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
