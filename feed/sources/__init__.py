"""Release sources: one module per upstream kind (Nyaa RSS in v1)."""
