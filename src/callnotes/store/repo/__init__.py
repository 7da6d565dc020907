"""Repositories: typed functions over a ``Session``. They flush, never commit (the caller does)."""
