"""Password hashes of the dev password, one per scheme an application may check, so that every masked
user of a dump logs in locally with `DEV_PASSWORD`.

A scheme is one entry in `SCHEMES`. Each hash is computed once per dump with a fixed salt: masking stays
deterministic (two dumps with one secret are identical) and the salt hides nothing, since the password
is documented. The hashing itself is left to well-kept libraries (bcrypt, argon2-cffi, hashlib).
"""

from __future__ import annotations

import base64
import functools
import hashlib
from collections.abc import Callable

DEV_PASSWORD = "pgparity-dev"
SALT = "pgparitydevsalt"
PBKDF2_ITERATIONS = 600_000  # Django 5's default
BCRYPT_SALT = b"pgparitydevsaltpgparie"  # 22 characters of bcrypt's alphabet; the last one carries 2 bits
BCRYPT_COST = 12
DEFAULT = "pbkdf2_sha256"


def pbkdf2_sha256() -> str:
    """Django's default format: `pbkdf2_sha256$<iterations>$<salt>$<base64 hash>`."""
    derived = hashlib.pbkdf2_hmac("sha256", DEV_PASSWORD.encode(), SALT.encode(), PBKDF2_ITERATIONS)
    return f"pbkdf2_sha256${PBKDF2_ITERATIONS}${SALT}${base64.b64encode(derived).decode()}"


def bcrypt_hash(prefix: bytes) -> Callable[[], str]:
    def scheme() -> str:
        import bcrypt

        return bcrypt.hashpw(DEV_PASSWORD.encode(), b"%s%02d$%s" % (prefix, BCRYPT_COST, BCRYPT_SALT)).decode()
    return scheme


def argon2id() -> str:
    """The PHC string (`$argon2id$v=19$m=65536,t=3,p=4$...`) that argon2-cffi, PHP and most libraries verify."""
    from argon2.low_level import Type, hash_secret

    return hash_secret(DEV_PASSWORD.encode(), (SALT + "!").encode(), time_cost=3, memory_cost=65536,
                       parallelism=4, hash_len=32, type=Type.ID).decode()


SCHEMES: dict[str, Callable[[], str]] = {
    "pbkdf2_sha256": pbkdf2_sha256,
    "django": pbkdf2_sha256,
    "bcrypt": bcrypt_hash(b"$2b$"),
    "rails": bcrypt_hash(b"$2a$"),  # has_secure_password's BCrypt::Password
    "argon2id": argon2id,
    "django_argon2": lambda: "argon2" + argon2id(),  # Django's Argon2PasswordHasher
}


@functools.cache
def dev_password_hash(scheme: str = DEFAULT) -> bytes:
    """The hash of DEV_PASSWORD in `scheme`, computed once per process."""
    return SCHEMES[scheme]().encode()
