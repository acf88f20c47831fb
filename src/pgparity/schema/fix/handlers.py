"""The registry: which DDL module's Handler makes, drops and changes each kind of object diff reports."""

from __future__ import annotations

from pgparity.schema.fix.handler import Handler
from pgparity.schema.fix.kinds import (
    access,
    aggregates,
    casts,
    collations,
    constraints,
    event_triggers,
    foreign,
    functions,
    grants,
    operators,
    replication,
    schemas,
    sequences,
    statistics,
    tables,
    text_search,
    triggers,
    types,
    views,
)

HANDLERS: dict[str, Handler] = {
    "schema": grants.as_granted(schemas.SCHEMA),
    "extension": schemas.EXTENSION,
    "enum": grants.as_granted(types.ENUM),
    "domain": grants.as_granted(types.DOMAIN),
    "type": grants.as_granted(types.COMPOSITE),
    "function": grants.as_granted(functions.FUNCTION),
    "sequence": grants.as_granted(sequences.SEQUENCE),
    "table": grants.as_granted(tables.TABLE),
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
    "view": grants.as_granted(views.VIEW),
    "materialized_view": grants.as_granted(views.MATERIALIZED_VIEW),
    "event_trigger": event_triggers.EVENT_TRIGGER,
    "statistics": statistics.STATISTICS,
    "rule": triggers.RULE,
    "operator": operators.OPERATOR,
    "operator_family": operators.OPERATOR_FAMILY,
    "operator_class": operators.OPERATOR_CLASS,
    "text_search_parser": text_search.PARSER,
    "text_search_template": text_search.TEMPLATE,
    "text_search_dictionary": text_search.DICTIONARY,
    "text_search_configuration": text_search.CONFIGURATION,
    "aggregate": grants.as_granted(aggregates.AGGREGATE),
    "cast": casts.CAST,
    "collation": collations.COLLATION,
    "publication": replication.PUBLICATION,
    "publication_table": replication.PUBLICATION_TABLE,
    "subscription": replication.SUBSCRIPTION,
    "foreign_data_wrapper": foreign.WRAPPER,
    "foreign_server": foreign.SERVER,
    "user_mapping": foreign.USER_MAPPING,
    "foreign_table": grants.as_granted(foreign.FOREIGN_TABLE),
    "foreign_data_wrapper_privilege": grants.GRANT,
    "foreign_server_privilege": grants.GRANT,
}


def needs_superuser(kind: str) -> bool:
    """Whether a migration making, changing or dropping an object of this kind must run as a superuser."""
    handler = HANDLERS.get(kind)
    return handler is not None and handler.superuser
