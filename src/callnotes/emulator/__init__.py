"""A Dataverse Web API emulator with an MSX-shaped data set, auth, limits and fault injection.

Public surface: :class:`EmulatorConfig`, :class:`EmulatorServer` (a real server on a free
loopback port) and :func:`create_app` (the ASGI app). See docs/emulator.md.
"""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the public names, for type checkers and readers
    from callnotes.emulator._public import *  # noqa: F403


__all__ = ["ConfigError", "EmulatorConfig", "EmulatorServer", "EmulatorStartError", "create_app"]


def __getattr__(name: str) -> Any:
    """Public names load on first use (PEP 562), so ``callnotes --help`` (which reads
    ``emulator/cli.py``) does not pay for Starlette and the data set."""
    if name not in __all__:  # a submodule (``from callnotes.emulator import x``) or a typo
        raise AttributeError(f"module 'callnotes.emulator' has no attribute {name!r}")
    import callnotes.emulator._public as public  # not ``from … import``: that would ask __getattr__ again

    return getattr(public, name)
