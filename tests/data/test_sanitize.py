"""Sanitize rules, transformers and the COPY stream masker: pure logic, no server."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import random
import re
import tracemalloc
import unicodedata
from pathlib import Path

import bcrypt
import pytest
from argon2 import PasswordHasher

from pgparity.data import pii
from pgparity.data.copytext import NULL, decode_field, encode_field, split_fields
from pgparity.data.passwords import DEV_PASSWORD
from pgparity.data.sanitize import (
    Column,
    ColumnName,
    KeyedHash,
    Masker,
    Rules,
    TableName,
    check,
    find_misfits,
    find_stale,
    find_uncovered,
    looks_like_pii,
    parse_rules,
    resolve,
    secret_key,
)
from pgparity.data.transformers import FIRST_NAMES, LAST_NAMES, IdFormat, Transform, parse_transform
from pgparity.errors import SanitizeError

TOML = Path("/project/pgparity.toml")
SECRET = b"unit-test-secret-0123456789"
OTHER_SECRET = b"another-secret-9876543210"
USERS = TableName("public", "users")
ORDERS = TableName("public", "orders")


def column(name: str, table: TableName = USERS, type_: str = "text", textual: bool = True,
           nullable: bool = True, unique: bool = False) -> Column:
    return Column(ColumnName(table, name), type_, textual, nullable, unique)


def rules(**columns: str) -> Rules:
    return parse_rules({"columns": {f"public.users.{name}": spec for name, spec in columns.items()}}, TOML)


def masked(masker: Masker, spec: str, value: bytes, unique: bool = False) -> bytes:
    """The COPY field that `value`, written by the server as a field, becomes."""
    return masker.function(Transform(*spec.partition(":")[::2]), unique)(encode_field(value))


# ------------------------------------------------------------------------------------------- rules

def test_parse_rules_reads_columns_and_tables():
    parsed = parse_rules({
        "columns": {"public.users.email": "email", "public.users.plan": "constant:free",
                    "public.users.country": "keep"},
        "tables": {"public.audit_log": {"exclude": True},
                   "public.events": {"where": "created_at > now() - interval '30 days'"},
                   "public.orders": {"limit": 1000}},
    }, TOML)
    assert parsed.transform(ColumnName(USERS, "email")) == Transform("email")
    assert str(parsed.transform(ColumnName(USERS, "plan"))) == "constant:free"
    assert parsed.transform(ColumnName(USERS, "nothing")) is None
    assert parsed.excluded(TableName("public", "audit_log")) and not parsed.excluded(ORDERS)
    assert parsed.table(ORDERS).describe() == "limit 1000"
    assert parsed.table(TableName("public", "events")).describe().startswith("where created_at")
    assert parsed.source == str(TOML) and Rules().columns == ()


@pytest.mark.parametrize("section, key, value, expected", [
    ("columns", "public.users.email", "emial", "unknown transformer 'emial'"),
    ("columns", "public.users.email", 3, "must be a transformer name"),
    ("columns", "public.users.plan", "constant", "unknown transformer 'constant'"),
    ("columns", "public.users.email", "email:x", "unknown transformer 'email:x'"),
    ("columns", "users.email", "email", "schema.table.column"),
    ("columns", "public.users.", "email", "schema.table.column"),
    ("columns", "public", {"users": {"email": "email"}}, "\"schema.table.column\", in quotes"),
    ("tables", "public.orders", {"limit": 0}, "limit must be a positive number"),
    ("tables", "public.orders", {"limit": "10"}, "limit must be a positive number"),
    ("tables", "public.orders", {"limit": True}, "limit must be a positive number"),
    ("tables", "public.orders", {"exclude": True, "limit": 5}, "make no sense"),
    ("tables", "public.orders", {"exclude": "yes"}, "exclude must be true or false"),
    ("tables", "public.orders", {"where": "  "}, "non-empty SQL condition"),
    ("tables", "public.orders", {"exclude": False}, "is no rule"),
    ("tables", "public.orders", {"limits": 5}, "must be { exclude = true }"),
    ("tables", "public.orders", "exclude", "must be { exclude = true }"),
    ("tables", "orders", {"exclude": True}, "schema.table"),
])
def test_bad_rules_name_the_file_and_the_key(section, key, value, expected):
    with pytest.raises(SanitizeError) as caught:
        parse_rules({section: {key: value}}, TOML)
    message = str(caught.value)
    assert message.startswith(f"{TOML}: sanitize.{section}.\"{key}\": ") and expected in message
    assert "\n" not in message


def test_bad_sections_name_the_file():
    with pytest.raises(SanitizeError, match=r"^/project/pgparity.toml: unknown key sanitize.column;"):
        parse_rules({"column": {}}, TOML)
    with pytest.raises(SanitizeError, match=r"^/project/pgparity.toml: \[sanitize.tables\] must be a table"):
        parse_rules({"tables": ["public.x"]}, TOML)


def test_the_secret_is_required_and_not_guessable():
    for value in (None, "", "short"):
        with pytest.raises(SanitizeError, match="PGPARITY_SANITIZE_SECRET must be set"):
            secret_key(value)
    assert secret_key("x" * 16) == b"x" * 16


# ------------------------------------------------------------------------------------ PII detection

@pytest.mark.parametrize("name", [
    "email", "emailAddress", "contact_email", "first_name", "lastName", "surname", "name", "full_name",
    "phone_number", "mobile", "home_address", "street", "city", "zip", "postal_code", "date_of_birth", "dob",
    "ssn", "auth_token", "client_secret", "password_hash", "last_login_ip", "api_key", "apiKey", "iban",
    "card_number", "username", "tax_id",
])
def test_pii_looking_names(name):
    assert looks_like_pii(column(name))


@pytest.mark.parametrize("name", ["id", "created_at", "total", "status", "description", "country", "plan",
                                  "quantity", "shipped", "zipped_size_bytes"])
def test_ordinary_names(name):
    assert not looks_like_pii(column(name))


def test_network_types_look_like_pii_whatever_the_name():
    assert looks_like_pii(column("origin", type_="inet", textual=False))
    assert looks_like_pii(column("seen_from", type_="cidr[]", textual=False))


def test_find_uncovered_lists_pii_columns_without_rules_and_keep_silences_one():
    columns = [column("id", type_="bigint", textual=False), column("email"), column("phone"), column("notes"),
               column("name", table=TableName("public", "audit_log"))]
    assert find_uncovered(columns, Rules()) == ["public.audit_log.name", "public.users.email", "public.users.phone"]
    covered = parse_rules({"columns": {"public.users.email": "email", "public.users.phone": "keep"},
                           "tables": {"public.audit_log": {"exclude": True}}}, TOML)
    assert find_uncovered(columns, covered) == []


def test_rules_matching_nothing_are_stale():
    stale = parse_rules({"columns": {"public.users.emial": "email"}, "tables": {"public.gone": {"limit": 1}}}, TOML)
    assert find_stale([column("email")], stale) == ["public.gone", "public.users.emial"]


def test_misfits_wrong_type_broken_uniqueness_and_null_in_not_null():
    columns = [column("id", type_="bigint", textual=False), column("email", unique=True),
               column("plan", nullable=False), column("api_key", unique=True)]
    problems = find_misfits(columns, rules(id="email", email="first_name", plan="null", api_key="hash"))
    assert problems == [
        "public.users.id is bigint; email writes text (use keep, null or constant:)",
        "public.users.email is unique; first_name repeats values (use email, phone, hash or keep)",
        "public.users.plan is NOT NULL; null cannot fill it",
    ]


def test_check_refuses_in_one_line_listing_every_problem():
    with pytest.raises(SanitizeError) as caught:
        check([column("email"), column("phone"), column("id", type_="integer", textual=False)],
              rules(id="email"))
    message = str(caught.value)
    assert "\n" not in message and message.startswith(f"refusing to dump ({TOML} [sanitize])")
    assert "public.users.email, public.users.phone" in message and "public.users.id is integer" in message


# -------------------------------------------------------------------------------------- transformers

def test_keyed_hash_is_hmac_sha256_of_kind_and_value():
    for secret in (SECRET, b"k" * 100):
        assert KeyedHash(secret, "email")(b"a@b.c") == hmac.digest(secret, b"email\0a@b.c", "sha256")


def test_transformers_write_what_they_promise():
    masker = Masker(SECRET)
    assert re.fullmatch(rb"user-[0-9a-f]{16}@example\.com", masked(masker, "email", b"alice@gmail.com"))
    assert re.fullmatch(rb"\+1555\d{8}", masked(masker, "phone", b"+44 20 7946 0000"))
    assert masked(masker, "hash", b"sk_live_abc") == hmac.digest(SECRET, b"hash\0sk_live_abc", "sha256").hex().encode()
    assert masked(masker, "first_name", b"Alice").decode() in FIRST_NAMES
    assert masked(masker, "last_name", b"Smith").decode() in LAST_NAMES
    first, last = masked(masker, "full_name", b"Alice Smith").decode().split(" ")
    assert first in FIRST_NAMES and last in LAST_NAMES
    assert masked(masker, "text", "Call Zoë at 555-1234.\tOK\n".encode()) == "xxxx xxx xx xxx-xxxx.\\txx\\n".encode()
    assert masked(masker, "constant:free", b"enterprise") == b"free"
    assert masked(masker, "constant:a\tb", b"x") == b"a\\tb"
    assert masked(masker, "null", b"anything") == NULL
    assert masker.function(Transform("keep"), unique=True) is None


def test_password_is_a_django_pbkdf2_hash_of_the_dev_password():
    algorithm, iterations, salt, encoded = masked(Masker(SECRET), "password", b"$2b$12$real").decode().split("$")
    expected = hashlib.pbkdf2_hmac("sha256", DEV_PASSWORD.encode(), salt.encode(), int(iterations))
    assert algorithm == "pbkdf2_sha256" and base64.b64decode(encoded) == expected


def test_same_value_and_secret_give_the_same_output_across_columns_and_runs():
    first, second, other = Masker(SECRET), Masker(SECRET), Masker(OTHER_SECRET)
    for spec in ("email", "phone", "hash", "first_name", "last_name", "full_name"):
        value = b"alice.smith@gmail.com"
        assert masked(first, spec, value, unique=True) == masked(first, spec, value) == masked(second, spec, value)
        assert masked(first, spec, value) != masked(first, spec, b"bob.jones@gmail.com") or "name" in spec
    assert masked(first, "email", b"alice@x.org") != masked(other, "email", b"alice@x.org")
    assert masked(first, "email", b"alice@x.org") != masked(first, "hash", b"alice@x.org")


def adversarial_values(count: int) -> list[bytes]:
    """Values that differ only in ways a careless mapping would merge."""
    base = ["alice@example.com", "Alice@example.com", "alice@example.com ", " alice@example.com", "", "\\N",
            "a\tb", "a\nb", "a\\b", *(unicodedata.normalize(form, "zoë@x.org") for form in ("NFC", "NFD"))]
    values = [text.encode() for text in base] + [f"user{i}@example.com".encode() for i in range(count)]
    assert len(set(values)) == len(values)
    return values


def test_unique_columns_stay_unique_under_forced_collisions():
    """One hex digit gives 16 ids for 3,000 values: collisions everywhere, resolved by longer ids."""
    tiny = {"email": IdFormat("user-{}@example.com", decimal=False, lengths=(1, 2)),
            "phone": IdFormat("+1555{}", decimal=True, lengths=(1, 3)),
            "hash": IdFormat("{}", decimal=False, lengths=(1,))}
    values = adversarial_values(3000)
    for kind in tiny:
        # The values hold case twins (alice@, Alice@): a unique column holding them is masked exactly.
        spec = "email:exact" if kind == "email" else kind
        optimistic = Masker(SECRET, formats=tiny)
        first = [masked(optimistic, spec, value, unique=True) for value in values]
        assert len(set(first)) < len(values), "no collision was forced"
        moves = resolve(tiny, optimistic.seen)
        masker = Masker(SECRET, formats=tiny, moves=moves)
        outputs = [masked(masker, spec, value, unique=True) for value in values]
        assert len(set(outputs)) == len(values), kind
        assert any(len(output) > len(tiny[kind].template) + 3 for output in outputs)
        # only contested values moved; and the moves do not depend on the order values were seen in
        assert sum(a != b for a, b in zip(first, outputs)) == sum(map(len, moves.values()))
        shuffled = Masker(SECRET, formats=tiny)
        for value in random.Random(5).sample(values, len(values)):
            masked(shuffled, spec, value, unique=True)
        assert resolve(tiny, shuffled.seen) == moves
        # another table's non-unique column finds the same spelling, even for values moved to longer ids
        assert [masked(masker, spec, value) for value in values] == outputs


def test_resolve_moves_nothing_without_collisions_and_falls_back_to_the_whole_digest():
    spec = {"email": IdFormat("user-{}@example.com", decimal=False, lengths=(16,))}
    distinct = {bytes([i]) * 32 for i in range(50)}
    assert resolve(spec, {"email": distinct}) == {}
    twins = {b"\x01" * 24 + b"\x02" * 8, b"\x03" * 24 + b"\x02" * 8}  # the same last 16 hex digits
    assert resolve(spec, {"email": twins}) == {"email": {digest: digest.hex() for digest in twins}}


def test_only_digests_of_unique_columns_are_remembered():
    masker = Masker(SECRET)
    for i in range(1000):
        masked(masker, "email", f"user{i}@example.com".encode())
        masked(masker, "hash", f"token{i}".encode(), unique=True)
    assert masker.seen["email"] == set() and masker.seen["hash"] == set()
    masked(masker, "email", b"user1@example.com", unique=True)
    assert len(masker.seen["email"]) == 1


# -------------------------------------------------------------------------------- COPY text format

def test_escapes_decode_as_postgresql_does():
    assert decode_field(b"\\N") is None
    assert decode_field(b"\\\\N") == b"\\N"
    assert decode_field(b"a\\tb\\nc\\rd\\\\e\\bf\\fg\\vh") == b"a\tb\nc\rd\\e\bf\fg\vh"
    assert decode_field(b"\\101\\x42\\q\\0") == b"ABq\0"
    assert decode_field(b"plain") == b"plain"


def test_encode_and_decode_round_trip_every_byte():
    rng = random.Random(7)
    values = [bytes(rng.randrange(256) for _ in range(rng.randrange(40))) for _ in range(2000)]
    values += [b"\\N", b"\\", b"\t\n\r\b\f\v\\", b""]
    for value in values:
        assert decode_field(encode_field(value)) == value
    assert encode_field(None) == NULL
    server_field = b"tab\\there\\nnewline\\\\backslash"
    assert encode_field(decode_field(server_field)) == server_field


def test_fields_split_on_unescaped_tabs_only():
    assert split_fields(b"a\tb\t\\N") == [b"a", b"b", b"\\N"]
    assert split_fields(b"a\\\tb\tc") == [b"a\\\tb", b"c"]
    assert split_fields(b"a\\\\\tb") == [b"a\\\\", b"b"]
    assert split_fields(b"x\\t\ty") == [b"x\\t", b"y"]
    with pytest.raises(SanitizeError, match="a backslash ends the line"):
        split_fields(b"a\\\\\tb\\")


TABLE = [column("id", type_="bigint", textual=False), column("email", unique=True), column("notes"),
         column("country")]
TABLE_RULES = rules(email="email", notes="text", country="keep")
STREAM = (b"1\talice@gmail.com\tCalled Alice\\tabout \\\\ invoice\\n\tGB\n"
          b"2\t\\N\t\\N\tDE\n"
          b"3\tbob@gmail.com\tsaid \\\\N\t\\N\n")


def test_stream_masks_only_ruled_fields_and_keeps_nulls():
    out = b"".join(Masker(SECRET).table(TABLE, TABLE_RULES).stream([STREAM])).split(b"\n")
    first, second, third = (line.split(b"\t") for line in out[:3])
    assert first[0] == b"1" and re.fullmatch(rb"user-[0-9a-f]{16}@example\.com", first[1])
    assert first[2] == b"xxxxxx xxxxx\\txxxxx \\\\ xxxxxxx\\n" and first[3] == b"GB"
    assert second == [b"2", b"\\N", b"\\N", b"DE"]
    assert third[2] == b"xxxx \\\\x" and third[3] == b"\\N" and out[3] == b""


def test_stream_output_does_not_depend_on_chunking():
    whole = b"".join(Masker(SECRET).table(TABLE, TABLE_RULES).stream([STREAM]))
    rng = random.Random(3)
    cuts = sorted(rng.sample(range(1, len(STREAM)), 20))
    chunks = [STREAM[start:end] for start, end in zip([0, *cuts], [*cuts, len(STREAM)])]
    assert b"".join(Masker(SECRET).table(TABLE, TABLE_RULES).stream(chunks)) == whole
    bytewise = [STREAM[i:i + 1] for i in range(len(STREAM))]
    assert b"".join(Masker(SECRET).table(TABLE, TABLE_RULES).stream(bytewise)) == whole
    assert b"".join(Masker(OTHER_SECRET).table(TABLE, TABLE_RULES).stream([STREAM])) != whole


def test_truncated_or_malformed_streams_are_refused():
    masker = Masker(SECRET).table(TABLE, TABLE_RULES)
    with pytest.raises(SanitizeError, match="ended in the middle of a row"):
        list(masker.stream([STREAM[:-3]]))
    with pytest.raises(SanitizeError, match="has 2 fields, expected 4"):
        list(masker.stream([b"1\tx\n"]))


def test_a_table_without_rules_passes_through_unchanged_but_checked():
    untouched = Masker(SECRET).table(TABLE, parse_rules({}, Path("pgparity.toml")))
    assert b"".join(untouched.stream([STREAM[:7], STREAM[7:]])) == STREAM
    with pytest.raises(SanitizeError, match="ended in the middle of a row"):
        list(untouched.stream([STREAM[:-3]]))


def generated_rows(count: int):
    for i in range(count):
        yield f"{i}\tperson{i}@gmail.com\tNote {i}\\twith a tab\tGB\n".encode()


def peak_memory(rows: int) -> int:
    masker = Masker(SECRET).table([*TABLE[:1], column("email"), *TABLE[2:]], TABLE_RULES)
    tracemalloc.start()
    try:
        for _ in masker.stream(generated_rows(rows)):
            pass
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_memory_stays_flat_as_the_table_grows():
    small, large = peak_memory(5_000), peak_memory(100_000)
    assert large < small + 256 * 1024 and large < 2 * 1024 * 1024, (small, large)


# -------------------------------------------------------------------------- PII by content, scrub, fit

NOTE = ("Call Ann at +44 20 7946 0958 or (555) 123-4567, mail ann.lee@corp.example.org, card 4111 1111 1111 1111, "
        "IBAN GB82 WEST 1234 5698 7654 32, from 10.1.2.3, ssn 123-45-6789, "
        "token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.abcdefghijk")
HARMLESS = "on 2024-01-31 12:00:00 version 1.2.3 order 12345678 total 4111 EUR, call back tomorrow"


def test_pii_is_found_by_content_and_harmless_text_is_not():
    assert pii.census([NOTE]) == {"phone": 2, "email": 1, "card": 1, "iban": 1, "ip": 1, "national_id": 1,
                                  "token": 1}
    assert pii.census([HARMLESS]) == {}
    assert pii.census(["4111 1111 1111 1112", "GB00 WEST 1234 5698 7654 32"]) == {}  # fails Luhn, fails mod 97


def test_scrub_replaces_what_it_finds_keeps_the_rest_and_json_stays_json():
    masker = Masker(SECRET)
    scrubbed = masked(masker, "scrub", NOTE.encode()).decode()
    for original in ("ann.lee@corp.example.org", "7946 0958", "123-4567", "4111 1111 1111 1111", "1234 5698",
                     "10.1.2.3", "123-45-6789", "eyJhbGci"):
        assert original not in scrubbed
    assert scrubbed.startswith("Call Ann at +1555") and "IBAN GB" in scrubbed and "192.0.2." in scrubbed
    assert pii.census([scrubbed]) == {"email": 1, "phone": 2, "ip": 1}  # the fakes: example.com, +1555, TEST-NET
    # The address in a note masks as the email column masks it: joins by hand still match.
    assert masked(masker, "email", b"ann.lee@corp.example.org").decode() in scrubbed
    document = json.dumps({"contact": {"email": "x@y.org", "cards": [4111111111111111]}, "n": 3})
    assert json.loads(masked(masker, "scrub", document.encode()).decode())["n"] == 3
    assert masked(masker, "scrub", HARMLESS.encode()).decode() == HARMLESS
    assert masked(masker, "scrub", b"{a@b.org,c@d.org}") == masked(Masker(SECRET), "scrub", b"{a@b.org,c@d.org}")


def test_content_findings_refuse_unruled_columns_with_counts_never_values():
    notes = column("notes")
    with pytest.raises(SanitizeError) as caught:
        check([notes, column("bio")], Rules(), {notes.name: pii.census([NOTE] * 3)}, {notes.name: 3})
    message = str(caught.value)
    assert "PII found in the values of columns without a rule: public.users.notes (card 3, email 3, iban 3" in message
    assert "in 3 sampled values" in message and "ann.lee" not in message and "bio" not in message
    check([notes], rules(notes="scrub"), {notes.name: pii.census([NOTE])}, {notes.name: 1})
    check([notes], rules(notes="keep"), {notes.name: pii.census([NOTE])}, {notes.name: 1})


@pytest.mark.parametrize("name,type_", [("email_verified", "boolean"), ("phone_updated_at", "timestamp with time zone"),
                                        ("token_count", "integer"), ("address_checked_on", "date")])
def test_names_alone_do_not_flag_types_that_hold_no_pii(name, type_):
    assert not looks_like_pii(column(name, type_=type_, textual=False))


@pytest.mark.parametrize("name,type_", [("date_of_birth", "date"), ("birthday", "timestamp without time zone"),
                                        ("latitude", "double precision"), ("zip", "integer")])
def test_dates_and_numbers_that_are_pii_still_are(name, type_):
    assert looks_like_pii(column(name, type_=type_, textual=False))


def test_a_rule_whose_output_cannot_fit_the_column_is_refused_with_what_fits():
    columns = [column("api_key", type_="character varying(50)", unique=True),
               column("email", type_="character varying(64)", unique=True),
               column("nick", type_="character varying(8)"), column("plan", type_="character(3)")]
    problems = find_misfits(columns, rules(api_key="hash", email="email", nick="full_name", plan="constant:free"))
    assert problems == [
        "public.users.api_key is character varying(50); hash writes up to 64 characters "
        "(use email, phone, or widen the column)",
        "public.users.nick is character varying(8); full_name writes up to 18 characters "
        "(use first_name, text (same length), or widen the column)",
        "public.users.plan is character(3); constant:free writes up to 4 characters "
        "(use text (same length), or widen the column)",
    ]


@pytest.mark.parametrize("scheme", ["pbkdf2_sha256", "bcrypt", "rails", "argon2id", "django_argon2"])
def test_each_password_scheme_is_a_valid_hash_of_the_dev_password(scheme):
    written = masked(Masker(SECRET), f"password:{scheme}", b"$2b$12$real-users-hash").decode()
    assert written == masked(Masker(OTHER_SECRET), f"password:{scheme}", b"other").decode()  # deterministic
    if scheme == "pbkdf2_sha256":
        algorithm, iterations, salt, encoded = written.split("$")
        assert base64.b64decode(encoded) == hashlib.pbkdf2_hmac("sha256", DEV_PASSWORD.encode(), salt.encode(),
                                                                int(iterations))
    elif scheme in ("bcrypt", "rails"):
        assert written.startswith("$2a$" if scheme == "rails" else "$2b$")
        assert bcrypt.checkpw(DEV_PASSWORD.encode(), written.encode())
    else:
        assert PasswordHasher().verify(written.removeprefix("argon2"), DEV_PASSWORD)
    with pytest.raises(ValueError, match="password\\[:pbkdf2_sha256\\|django\\|bcrypt"):
        parse_transform("password:md5")


def test_a_rule_on_a_partitioned_table_covers_its_partitions_and_theirs_win():
    visits, old, new = (TableName("public", name) for name in ("visits", "visits_2024", "visits_2025"))
    given = parse_rules({"columns": {"public.visits.email": "email", "public.visits_2025.email": "keep",
                                     "public.users.email": "email"},
                         "tables": {"public.visits": {"where": "at > now() - interval '1 year'"}}}, TOML)
    expanded = given.for_partitions({old: visits, new: visits})
    assert expanded.transform(ColumnName(old, "email")) == Transform("email")
    assert expanded.transform(ColumnName(new, "email")) == Transform("keep")
    assert expanded.transform(ColumnName(visits, "email")) is None and expanded.table(visits) is None
    assert expanded.table(old).where == expanded.table(new).where == "at > now() - interval '1 year'"
    assert find_stale([column("email"), column("email", table=old), column("email", table=new)], expanded) == []


@pytest.mark.parametrize("condition,problem", [
    ("exists (select dblink('host=evil', 'select 1'))", "where calls dblink, which production must not run"),
    ("id > nextval('users_id_seq')", "where calls nextval"),
    ("pg_read_file('/etc/passwd') <> ''", "where calls pg_read_file"),
    ("true); DROP TABLE users; SELECT (1", "where must be one condition, not several statements"),
    ("created_at >", "where is not one SQL condition"),
])
def test_where_rules_that_reach_out_or_are_not_a_condition_are_refused(condition, problem):
    with pytest.raises(SanitizeError, match=re.escape(problem)):
        parse_rules({"tables": {"public.events": {"where": condition}}}, TOML)
    assert parse_rules({"tables": {"public.events": {"where": "created_at > now() - interval '30 days'"}}}, TOML)


def test_json_rules_mask_each_path_and_scrub_or_keep_the_rest():
    given = {"$.email": "email", "$.phones[*]": "phone", "$.name": "full_name", '$["home address"]': "text"}
    document = json.dumps({"email": "ann@corp.org", "name": "Ann Lee", "phones": ["+44 20 7946 0958", 5551234567],
                           "home address": "1 Main St", "bio": "write to ann.lee@corp.org", "age": 41})
    scrubbing, keeping = (parse_rules({"columns": {"public.users.profile": {"json": given, "rest": rest}}}, TOML)
                          for rest in ("scrub", "keep"))
    masker = Masker(SECRET)
    out = json.loads(masker.function(scrubbing.columns[0].transform, False)(encode_field(document.encode())))
    assert out["email"] == masked(masker, "email", b"ann@corp.org").decode()
    assert [re.fullmatch(r"\+1555\d{8}", phone) is not None for phone in out["phones"]] == [True, True]
    assert out["name"].split(" ")[0] in FIRST_NAMES and out["home address"] == "x xxxx xx"
    assert "ann.lee@corp.org" not in out["bio"] and out["age"] == 41
    kept = json.loads(masker.function(keeping.columns[0].transform, False)(encode_field(document.encode())))
    assert kept["bio"] == "write to ann.lee@corp.org" and kept["email"] == out["email"]
    assert str(scrubbing.columns[0].transform).startswith("json{$.email=email, $.phones[*]=phone")


@pytest.mark.parametrize("rule,error", [
    ({"json": {"email": "email"}}, "must start with $"),
    ({"json": {"$.a..b": "email"}}, "cannot read"),
    ({"json": {"$.a": "json:scrub"}}, "a path takes a value transformer, not json"),
    ({"json": {"$.a": "email"}, "rest": "drop"}, "a json rule is"),
    ({"paths": {"$.a": "email"}}, "a json rule is"),
])
def test_bad_json_rules_name_the_column(rule, error):
    with pytest.raises(SanitizeError, match=re.escape('sanitize.columns."public.users.profile"') + ".*" + re.escape(error)):
        parse_rules({"columns": {"public.users.profile": rule}}, TOML)


def test_a_json_rule_needs_a_json_column():
    problems = find_misfits([column("profile", type_="jsonb", textual=False), column("bio")],
                            parse_rules({"columns": {"public.users.profile": {"json": {"$.a": "email"}},
                                                     "public.users.bio": {"json": {"$.a": "email"}}}}, TOML))
    assert problems == ["public.users.bio is text; a json rule needs a json or jsonb column"]


def test_partition_rules_leave_the_rules_of_other_tables_as_they_are():
    given = parse_rules({"columns": {"public.orders.address": "text"}, "tables": {"public.orders": {"limit": 10}}},
                        TOML)
    expanded = given.for_partitions({TableName("public", "visits_2024"): TableName("public", "visits")})
    assert expanded.columns == given.columns and expanded.tables == given.tables


def test_emails_are_masked_from_their_lower_case_form_unless_exact():
    masker = Masker(SECRET)
    assert masked(masker, "email", b"Ann.Lee@Corp.ORG") == masked(masker, "email", b"ann.lee@corp.org")
    assert masked(masker, "email", "Zoë@Example.SE".encode()) == masked(masker, "email", "zoë@example.se".encode())
    assert masked(masker, "email:exact", b"Ann@corp.org") != masked(masker, "email:exact", b"ann@corp.org")
    assert masked(masker, "scrub", b"to Ann.Lee@Corp.ORG").endswith(masked(masker, "email", b"ann.lee@corp.org"))


def test_digits_inside_hex_ids_and_versions_are_not_cards_or_addresses():
    assert pii.census(["ref 26dd0dbc6e3f4c8043749885523d6a25", "build v1.2.3.4a", "id a4111111111111111b"]) == {}
    assert pii.census(["card: 4111111111111111.", "from 10.1.2.3:5432"]) == {"card": 1, "ip": 1}


def test_a_scrubbed_column_masks_a_block_as_it_masks_each_field():
    values = [NOTE, HARMLESS, "", "x@y.org\tand tab", "back\\slash 10.1.2.3", "tok_ not a token", "é ünïcode 4111"]
    fields = [encode_field(value.encode()) for value in values] + [NULL]
    block = b"".join(b"%d\t%s\n" % (i, field) for i, field in enumerate(fields))
    table = [column("id", type_="integer", textual=False), column("notes")]
    masker = Masker(SECRET)
    expected = b"".join(b"%d\t%s\n" % (i, masker.function(Transform("scrub"), False)(field))
                        for i, field in enumerate(fields))
    assert masker.table(table, rules(notes="scrub")).rows(block) == expected
    assert expected != block


def test_an_array_of_text_is_masked_element_by_element():
    array = column("aliases", type_="text[]", textual=False)
    block = encode_field(b'{ann@corp.org,"Ann Lee@corp.org",NULL,"q\\"x@y.org"}') + b"\n"
    masker = Masker(SECRET)
    out = decode_field(masker.table([array], rules(aliases="email")).rows(block)[:-1]).decode()
    first = masked(masker, "email", b"ann@corp.org").decode()
    assert out.startswith("{" + first + ",user-") and ",NULL," in out and "corp.org" not in out
    assert find_misfits([array, column("tags", type_="character varying(10)[]", textual=False)],
                        rules(aliases="email", tags="hash")) == [
        "public.users.tags is character varying(10)[]; hash writes up to 64 characters "
        "(use first_name, last_name, text (same length), or widen the column)"]
