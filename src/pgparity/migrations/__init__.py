"""Migration files: their model, lint, discovery and naming; the ledger, the applier and sync."""
