"""A Dataverse Web API emulator with an MSX-shaped data set, auth, limits and fault injection.

Public surface: :class:`EmulatorConfig`, :class:`EmulatorServer` (a real server on a free
loopback port) and :func:`create_app` (the ASGI app). See docs/emulator.md.
"""

from callnotes.emulator.app import create_app
from callnotes.emulator.config import ConfigError, EmulatorConfig
from callnotes.emulator.server import EmulatorServer, EmulatorStartError

__all__ = ["ConfigError", "EmulatorConfig", "EmulatorServer", "EmulatorStartError", "create_app"]
