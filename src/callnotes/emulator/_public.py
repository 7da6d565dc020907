"""The emulator's public names, loaded on first use through ``callnotes.emulator``."""


from callnotes.emulator.app import create_app
from callnotes.emulator.config import ConfigError, EmulatorConfig
from callnotes.emulator.server import EmulatorServer, EmulatorStartError
