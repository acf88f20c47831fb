"""Text search parsers, templates, dictionaries and configurations."""

from __future__ import annotations

from collections.abc import Callable

from psycopg import sql

from pgparity.schema.diff import Node
from pgparity.schema.fix.handler import Handler, commented_as, dropping, with_contents
from pgparity.schema.fix.lookup import Sides
from pgparity.schema.fix.phases import Action, Phase, Step
from pgparity.schema.fix.sqltext import qualified, raw, step
from pgparity.schema.model import Model


def built(phase: Phase, word: str, options: Callable[[Model], list[tuple[str, str | None]]]):
    """CREATE TEXT SEARCH <word> name (OPTION = function, …), options left out where None."""
    def build(node: Node, sides: Sides) -> tuple[Step, ...]:
        given = [sql.SQL(f"{name} = {{}}").format(raw(value)) for name, value in options(node.obj) if value is not None]
        own = [step(phase, f"CREATE TEXT SEARCH {word} {{}} ({{}})", qualified(node.obj), sql.SQL(", ").join(given))]
        return with_contents(node, sides, own)
    return build


PARSER = Handler(
    built(Phase.TEXT_SEARCH_TEMPLATE, "PARSER", lambda p: [("START", p.start), ("GETTOKEN", p.gettoken),
                                                           ("END", p.end), ("LEXTYPES", p.lextypes),
                                                           ("HEADLINE", p.headline)]),
    dropping(Phase.DROP_TEXT_SEARCH_TEMPLATE, "DROP TEXT SEARCH PARSER {}"),
    comment_on=commented_as("TEXT SEARCH PARSER"), superuser=True,
)

TEMPLATE = Handler(
    built(Phase.TEXT_SEARCH_TEMPLATE, "TEMPLATE", lambda t: [("INIT", t.init), ("LEXIZE", t.lexize)]),
    dropping(Phase.DROP_TEXT_SEARCH_TEMPLATE, "DROP TEXT SEARCH TEMPLATE {}"),
    comment_on=commented_as("TEXT SEARCH TEMPLATE"), superuser=True,
)


def option_name(item: str) -> str:
    return item.split(" = ", 1)[0]


def build_dictionary(node: Node, sides: Sides) -> tuple[Step, ...]:
    d = node.obj
    options = sql.SQL(", ").join([sql.SQL("TEMPLATE = {}").format(raw(d.template)), *map(raw, d.options)])
    own = [step(Phase.TEXT_SEARCH_DICTIONARY, "CREATE TEXT SEARCH DICTIONARY {} ({})", qualified(d), options)]
    return with_contents(node, sides, own)


def alter_dictionary(source: Node, target: Node, attribute: str, sides: Sides) -> Action | None:
    """Options are set in place, and those the target lacks reset (named without a value)."""
    if attribute != "options":
        return None  # dropped and created
    kept = {option_name(item) for item in target.obj.options}
    changes = [raw(item) for item in target.obj.options if item not in source.obj.options]
    changes += [raw(option_name(item)) for item in source.obj.options if option_name(item) not in kept]
    return Action((step(Phase.TEXT_SEARCH_DICTIONARY, "ALTER TEXT SEARCH DICTIONARY {} ({})", qualified(target.obj),
                        sql.SQL(", ").join(changes)),))


DICTIONARY = Handler(build_dictionary, dropping(Phase.DROP_TEXT_SEARCH_DICTIONARY, "DROP TEXT SEARCH DICTIONARY {}"),
                     alter_dictionary, comment_on=commented_as("TEXT SEARCH DICTIONARY"))


def mappings(c: Model) -> dict[str, str]:
    """Token type -> its dictionaries, from `token: dictionary, …` items."""
    return dict(item.split(": ", 1) for item in c.mapping)


def mapping_steps(c: Model, verb: str, tokens: dict[str, str | None]) -> list[Step]:
    """One ALTER … MAPPING FOR the token types sharing their dictionaries (None: DROP names none)."""
    shared: dict[str | None, list[str]] = {}
    for token, dictionaries in tokens.items():
        shared.setdefault(dictionaries, []).append(token)
    return [step(Phase.TEXT_SEARCH_CONFIGURATION, f"ALTER TEXT SEARCH CONFIGURATION {{}} {verb} MAPPING FOR {{}}{{}}",
                 qualified(c), sql.SQL(", ").join(map(sql.Identifier, same)),
                 sql.SQL("") if dictionaries is None else sql.SQL(" WITH {}").format(raw(dictionaries)))
            for dictionaries, same in shared.items()]


def build_configuration(node: Node, sides: Sides) -> tuple[Step, ...]:
    c = node.obj
    own = [step(Phase.TEXT_SEARCH_CONFIGURATION, "CREATE TEXT SEARCH CONFIGURATION {} (PARSER = {})", qualified(c),
                raw(c.parser)), *mapping_steps(c, "ADD", mappings(c))]
    return with_contents(node, sides, own)


def alter_configuration(source: Node, target: Node, attribute: str, sides: Sides) -> Action | None:
    """Each token type's mapping is added, altered or dropped in place; another parser recreates it."""
    if attribute != "mapping":
        return None  # dropped and created
    before, after, c = mappings(source.obj), mappings(target.obj), target.obj
    steps = mapping_steps(c, "DROP", {token: None for token in before if token not in after})
    steps += mapping_steps(c, "ADD", {token: d for token, d in after.items() if token not in before})
    steps += mapping_steps(c, "ALTER", {token: d for token, d in after.items() if before.get(token, d) != d})
    return Action(tuple(steps))


CONFIGURATION = Handler(build_configuration,
                        dropping(Phase.DROP_TEXT_SEARCH_CONFIGURATION, "DROP TEXT SEARCH CONFIGURATION {}"),
                        alter_configuration, comment_on=commented_as("TEXT SEARCH CONFIGURATION"))
