"""callnotes: local-first call notes for Azure sellers and SEs, wired to MSX."""

__version__ = "0.1.0"
