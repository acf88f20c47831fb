"""The DDL of each kind of object: one module per group of kinds, registered in `handlers`."""
