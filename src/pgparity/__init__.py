"""pgparity: keep a developer's PostgreSQL schema in parity with production."""

__version__ = "0.1.0"
