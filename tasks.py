"""invoke's entry point: the namespace is pgparity's `db` collection."""

from invoke import Collection

from pgparity.cli.tasks import db

ns = Collection(db)
