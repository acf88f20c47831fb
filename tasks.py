"""invoke's entry point: the namespace is pgparity's `db` collection."""

from invoke import Collection

from pgparity.tasks import db

ns = Collection(db)
