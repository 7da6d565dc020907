"""Typed errors of the sync layer's generic parts (mappings, push, webhooks); the edges (CLI, HTTP
handlers) turn them into one sentence."""

from __future__ import annotations


class SyncError(Exception):
    """Base of the errors a person can act on that the sync layer raises itself."""
