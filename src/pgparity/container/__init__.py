"""The Docker side: the dev server's container, its compose project, and one-off client containers."""
