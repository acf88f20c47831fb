"""The registry: which DDL module's Handler makes, drops and changes each kind of object diff reports."""

from __future__ import annotations

from pgparity.schema.fix.handler import Handler
from pgparity.schema.fix.kinds import (
    access,
    constraints,
    event_triggers,
    functions,
    schemas,
    sequences,
    tables,
    triggers,
    types,
    views,
)

HANDLERS: dict[str, Handler] = {
    "schema": schemas.SCHEMA,
    "extension": schemas.EXTENSION,
    "enum": types.ENUM,
    "domain": types.DOMAIN,
    "type": types.COMPOSITE,
    "function": functions.FUNCTION,
    "sequence": sequences.SEQUENCE,
    "table": tables.TABLE,
    "column": tables.COLUMN,
    "constraint": constraints.CONSTRAINT,
    "index": constraints.INDEX,
    "trigger": triggers.TRIGGER,
    "policy": access.POLICY,
    "privilege": access.PRIVILEGE,
    "view": views.VIEW,
    "materialized_view": views.MATERIALIZED_VIEW,
    "event_trigger": event_triggers.EVENT_TRIGGER,
}
