"""The statements of a fix, each in its phase: the one place that decides the order they run in."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum, auto


class Phase(IntEnum):
    """Statement classes in the order a fix runs them: drops (dependents first), then creations. The order
    of declaration is the order; a new class is one line in its place."""

    SETUP = auto()
    DROP_TRIGGER = auto()  # triggers, rules and policies: they name columns and functions
    DROP_VIEW = auto()
    DROP_FOREIGN_KEY = auto()
    DROP_CONSTRAINT = auto()  # other constraints, indexes and extended statistics
    DROP_DEFAULT = auto()  # defaults, identities, generation expressions
    DROP_SUBSCRIPTION = auto()
    DROP_PUBLICATION = auto()  # publications and their tables: before the columns, tables and schemas they name
    DROP_COLUMN = auto()
    DROP_TABLE = auto()  # also foreign tables
    DROP_OPERATOR_CLASS = auto()
    DROP_OPERATOR_FAMILY = auto()
    DROP_OPERATOR = auto()
    DROP_TEXT_SEARCH_CONFIGURATION = auto()
    DROP_TEXT_SEARCH_DICTIONARY = auto()
    DROP_TEXT_SEARCH_TEMPLATE = auto()  # templates and parsers: dictionaries and configurations name them
    DROP_CAST = auto()  # casts and aggregates name functions and types
    DROP_AGGREGATE = auto()
    DROP_USER_MAPPING = auto()
    DROP_SERVER = auto()
    DROP_WRAPPER = auto()
    DROP_FUNCTION = auto()
    DROP_SEQUENCE = auto()
    DROP_COMPOSITE = auto()
    DROP_DOMAIN = auto()
    DROP_COLLATION = auto()  # once no column, index or domain uses it
    DROP_ENUM = auto()
    DROP_EXTENSION = auto()
    DROP_SCHEMA = auto()
    SCHEMA = auto()
    ROLE = auto()
    EXTENSION = auto()
    COLLATION = auto()  # before the domains, types and columns that use it
    ENUM = auto()
    DOMAIN = auto()
    COMPOSITE = auto()
    FUNCTION = auto()
    OPERATOR = auto()
    OPERATOR_FAMILY = auto()  # also the members no class holds
    OPERATOR_CLASS = auto()
    TEXT_SEARCH_TEMPLATE = auto()  # templates and parsers
    TEXT_SEARCH_DICTIONARY = auto()
    TEXT_SEARCH_CONFIGURATION = auto()  # also its mappings
    AGGREGATE = auto()
    CAST = auto()
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
    STATISTICS = auto()  # CREATE STATISTICS, on columns and expressions like an index's
    REPLICA_IDENTITY = auto()  # names an index, or a constraint's
    PUBLICATION = auto()  # once the tables, columns and schemas it names are there
    SUBSCRIPTION = auto()
    FOREIGN_KEY = auto()
    VALIDATE = auto()  # VALIDATE CONSTRAINT, once every constraint is there
    TRIGGER = auto()
    RULE = auto()  # after the views and tables its actions name
    POLICY = auto()
    OWNER = auto()  # ALTER … OWNER TO, before the grants, which the new owner's rights are then part of
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
                        Phase.COLUMN_STORAGE, Phase.SEQUENCE_OWNER, Phase.REPLICA_IDENTITY, Phase.VALIDATE, Phase.OWNER,
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
    """Both notes, once each: a drop and a create of one object may tell the same thing."""
    return "; ".join(dict.fromkeys(text for text in (first, second) if text)) or None
