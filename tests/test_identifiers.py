"""Identifiers as the server prints them, read back by the one parser the fix and the restore share."""

import re

import pytest

from pgparity.identifiers import NAME, PART, names, unquote


@pytest.mark.parametrize("printed, parts", [
    ("public.users", ("public", "users")),
    ('public."My ""T"""', ("public", 'My "T"')),
    ('"a.b".c', ("a.b", "c")),
    ('"Weird (name), here"', ("Weird (name), here",)),
])
def test_names_splits_and_unquotes_a_printed_name(printed, parts):
    assert names(printed) == parts


def test_unquote_leaves_a_bare_name_alone():
    assert unquote("users") == "users" and unquote('"Users"') == "Users"


def test_a_name_is_stricter_than_a_part():
    assert re.fullmatch(PART, "1.5".split(".")[0]) and not re.fullmatch(NAME, "1")
    assert re.fullmatch(NAME, '"1"') and re.fullmatch(NAME, "_a$1")
