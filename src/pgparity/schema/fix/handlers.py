"""The registry: which DDL module's Handler makes, drops and changes each kind of object diff reports."""

from __future__ import annotations

from pgparity.schema.fix.handler import Handler
from pgparity.schema.fix.kinds import (
    access,
    constraints,
    event_triggers,
    foreign,
    functions,
    grants,
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
    "enum": grants.without_public_defaults(types.ENUM),
    "domain": grants.without_public_defaults(types.DOMAIN),
    "type": grants.without_public_defaults(types.COMPOSITE),
    "function": grants.without_public_defaults(functions.FUNCTION),
    "sequence": sequences.SEQUENCE,
    "table": tables.TABLE,
    "column": tables.COLUMN,
    "constraint": constraints.CONSTRAINT,
    "index": constraints.INDEX,
    "trigger": triggers.TRIGGER,
    "policy": access.POLICY,
    "privilege": access.PRIVILEGE,
    "schema_privilege": grants.GRANT,
    "sequence_privilege": grants.GRANT,
    "function_privilege": grants.GRANT,
    "type_privilege": grants.GRANT,
    "default_privilege": grants.DEFAULT_PRIVILEGE,
    "view": views.VIEW,
    "materialized_view": views.MATERIALIZED_VIEW,
    "event_trigger": event_triggers.EVENT_TRIGGER,
    "foreign_data_wrapper": foreign.WRAPPER,
    "foreign_server": foreign.SERVER,
    "user_mapping": foreign.USER_MAPPING,
    "foreign_table": foreign.FOREIGN_TABLE,
    "foreign_data_wrapper_privilege": grants.GRANT,
    "foreign_server_privilege": grants.GRANT,
}
