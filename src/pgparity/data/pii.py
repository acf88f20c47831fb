"""What personal data looks like inside values: one registry of patterns, used to find PII by content
and to scrub it out of free text.

A pattern is one entry in `PATTERNS`: a regular expression, an optional check that cuts false positives
(Luhn for cards, mod 97 for IBANs), and how a match is replaced. Replacements are deterministic under the
dump's secret, so the same email in a note and in a column masks to the same fake one.
"""

from __future__ import annotations

import bisect
import functools
import itertools
import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

Digest = Callable[[str, bytes], bytes]  # (kind, value) -> HMAC under the dump's secret


def luhn(text: str) -> bool:
    digits = [int(c) for c in text if c.isdigit()]
    if len(set(digits)) < 2:  # 0000 0000 0000 0000 passes Luhn and is no card
        return False
    total = sum(d if i % 2 == 0 else (d * 2 - 9 if d > 4 else d * 2) for i, d in enumerate(reversed(digits)))
    return total % 10 == 0


def iban(text: str) -> bool:
    compact = text.replace(" ", "")
    rearranged = compact[4:] + compact[:4]
    return int("".join(str(int(c, 36)) for c in rearranged)) % 97 == 1


def digits_from(digest: bytes, text: str) -> str:
    """`text` with every digit replaced by one drawn from `digest`: the layout stays, the number does not.

    The first digit is never 0, so a card number written as a JSON number stays a valid one.
    """
    pool = str(int.from_bytes(digest, "big")).zfill(78)
    taken = iter(pool)
    out = [next(taken) if c.isdigit() else c for c in text]
    first = next((i for i, c in enumerate(text) if c.isdigit()), None)
    if first is not None and out[first] == "0":
        out[first] = str(1 + digest[0] % 9)
    return "".join(out)


@dataclass(frozen=True)
class Pattern:
    kind: str
    regex: re.Pattern[str]
    replace: Callable[[Digest, str], str]
    valid: Callable[[str], bool] = lambda text: True


def fake_email(digest: Digest, text: str) -> str:
    """As the `email` transformer spells a column's value (case-folded), so an address in a note matches it."""
    return f"user-{digest('email', text.lower().encode()).hex()[-16:]}@example.com"


def fake_phone(digest: Digest, text: str) -> str:
    return "+1555" + str(int.from_bytes(digest("phone", text.encode()), "big") % 10**8).zfill(8)


def fake_ip(digest: Digest, text: str) -> str:
    return f"192.0.2.{digest('ip', text.encode())[0]}"  # TEST-NET-1: documentation addresses


# The fakes are chosen never to pass for real ones, so a scan of a restored database finds none of them:
# a card number that fails Luhn, an IBAN with the check digits 00, a US SSN in the 9xx area, never issued.
def fake_card(digest: Digest, text: str) -> str:
    fake = digits_from(digest("card", text.encode()), text)
    if luhn(fake):
        last = max(i for i, c in enumerate(fake) if c.isdigit())
        fake = fake[:last] + str((int(fake[last]) + 1) % 10) + fake[last + 1:]
    return fake


def fake_iban(digest: Digest, text: str) -> str:
    return text[:2] + "00" + digits_from(digest("iban", text.encode()), text[4:])


def fake_national_id(digest: Digest, text: str) -> str:
    return "9" + digits_from(digest("national_id", text.encode()), text[1:])


def fake_token(digest: Digest, text: str) -> str:
    return "redacted-" + digest("token", text.encode()).hex()[:24]


PATTERNS: tuple[Pattern, ...] = (
    Pattern("email", re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"), fake_email),
    Pattern("token", re.compile(r"\beyJ[\w-]{8,}\.[\w-]{8,}\.[\w-]{8,}|\b(?:sk|pk|rk)_(?:live|test)_[A-Za-z0-9]{16,}"
                                r"|\bgh[pousr]_[A-Za-z0-9]{30,}|\bxox[abpr]-[A-Za-z0-9-]{10,}|\bAKIA[0-9A-Z]{16}\b"),
            fake_token),
    Pattern("iban", re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}\b"), fake_iban, iban),
    Pattern("card", re.compile(r"(?<![\w-])\d(?:[ -]?\d){12,18}(?![\w-])"), fake_card, luhn),  # not inside hex ids
    Pattern("national_id", re.compile(r"\b(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}\b"), fake_national_id),
    Pattern("phone", re.compile(r"(?<![\w+])\+\d{1,3}[ .-]?(?:\(\d{1,4}\)[ .-]?)?\d{2,4}(?:[ .-]?\d{2,4}){1,4}(?!\w)"
                                r"|\(\d{3}\) ?\d{3}[-. ]\d{4}\b|\b\d{3}[-.]\d{3}[-.]\d{4}\b"), fake_phone),
    Pattern("ip", re.compile(r"(?<![\w.])(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
                             r"(?![\w.])"), fake_ip),
)
BY_KIND = {p.kind: p for p in PATTERNS}
# Cheap tests a value must pass before any pattern of a group is tried: a dump scrubs millions of values,
# and most hold nothing to replace. They look at the value with every digit turned into 0 and every capital
# into A and every separator into - (one C-speed translate), for what each group needs: an @; a token's prefix; digits around a
# separator, a + before one, thirteen in a row (a card) or a country code and check digits (an IBAN).
SHAPES = bytes.maketrans(b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ .()-", b"0" * 10 + b"A" * 26 + b"-" * 5)
TOKEN_MARKS = re.compile(rb"eyJ|_live_|_test_|gh[pousr]_|xox|AKIA")
GATES = (("email",), ("token",), ("iban", "card", "national_id", "phone", "ip"))
# For each combination of gates passed, the kinds to try, in the registry's order.
GROUPS = {passed: tuple(p.kind for p in PATTERNS if any(p.kind in kinds for kinds, on in zip(GATES, passed) if on))
          for passed in itertools.product((False, True), repeat=len(GATES))}


def candidates(value: bytes) -> tuple[str, ...]:
    """The kinds whose patterns could match `value` (UTF-8), in the registry's order.

    Written out as plain `in` tests: this runs once per scrubbed value of a dump.
    """
    shape = value.translate(SHAPES)
    digits = (b"0-0" in shape or b"+0" in shape or b"0--0" in shape or b"AA00" in shape
              or b"0000000000000" in shape)
    token = (b"eyJ" in value or b"xox" in value or b"AKIA" in value
             or b"_" in value and TOKEN_MARKS.search(value) is not None)
    return GROUPS[b"@" in value, token, digits]


DIGIT_NEEDLES = (b"0-0", b"+0", b"0--0", b"AA00", b"0000000000000")
LITERAL_MARKS = (b"@", b"eyJ", b"xox", b"AKIA", b"_")


def flagged(values: Sequence[bytes]) -> set[int]:
    """The indexes of the values (COPY fields: none holds a newline) that `candidates` could find anything in.

    The cheap tests run over all the values joined, so the values of a column that hold nothing cost no
    Python work each; after a hit the search goes on from the next value.
    """
    joined = b"\n".join(values)
    starts = list(itertools.accumulate((len(value) + 1 for value in values), initial=0))  # of each value, and the end
    found: set[int] = set()
    for haystack, needles in ((joined, LITERAL_MARKS), (joined.translate(SHAPES), DIGIT_NEEDLES)):
        for needle in needles:
            at = haystack.find(needle)
            while at >= 0:
                index = bisect.bisect_right(starts, at) - 1
                found.add(index)
                at = haystack.find(needle, starts[index + 1])
    return found


@functools.cache
def combined(kinds: tuple[str, ...]) -> re.Pattern[str]:
    """One expression for the kinds, each as a named group; tried at each position in registry order."""
    return re.compile("|".join(f"(?P<{kind}>{BY_KIND[kind].regex.pattern})" for kind in kinds))


def kinds_in(text: str) -> Iterable[str]:
    """The kinds of PII found in `text`, one per match."""
    kinds = candidates(text.encode("utf-8", "surrogateescape"))
    if not kinds:
        return
    for match in combined(kinds).finditer(text):
        pattern = BY_KIND[match.lastgroup]
        if pattern.valid(match.group()):
            yield pattern.kind


def scrub(text: str, digest: Digest, kinds: tuple[str, ...] | None = None) -> str:
    """`text` with every email, phone, IP address, card, IBAN, national id and token replaced by its fake.

    `kinds`: the candidates, when the caller already asked for them."""
    kinds = candidates(text.encode("utf-8", "surrogateescape")) if kinds is None else kinds
    if not kinds:
        return text

    def replaced(match: re.Match[str]) -> str:
        pattern = BY_KIND[match.lastgroup]
        found = match.group()
        return pattern.replace(digest, found) if pattern.valid(found) else found

    return combined(kinds).sub(replaced, text)


def census(values: Iterable[str]) -> Counter[str]:
    """How many matches of each kind the values hold."""
    return Counter(kind for value in values for kind in kinds_in(value))
