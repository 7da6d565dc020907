"""Settings from the environment (``CALLNOTES_*``), one place for every knob.

This module imports nothing of callnotes: every layer above the generic ones may read it, and the
MSX defaults it needs (the corporate tenant) are applied where a connection is built (sync/connection.py).
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

import platformdirs
from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

ENV_PREFIX = "CALLNOTES_"


class AuthMode(StrEnum):
    AZCLI = "azcli"
    DEVICE_CODE = "device-code"
    CLIENT_SECRET = "client-secret"  # noqa: S105 - a mode name, not a secret
    EMULATOR = "emulator"


class Settings(BaseSettings):
    """All configuration. Every field reads ``CALLNOTES_<NAME>`` from the environment."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore")

    crm_url: str | None = Field(default=None, description="Dataverse org URL; unset = demo mode")
    auth: AuthMode | None = None
    #: Entra tenant; unset = MSX's corporate tenant (msx.schema.TENANT_ID).
    tenant_id: str | None = None
    client_id: str | None = None
    client_secret: SecretStr | None = None
    database_url: str | None = None
    #: The job queue on Redis (several ``callnotes worker`` processes); unset = SQLite in the data dir.
    redis_url: str | None = None
    data_dir: Path | None = None
    host: str = "127.0.0.1"
    port: int = 5151
    log_level: str = "INFO"
    require_services: bool = False

    def resolved_data_dir(self) -> Path:
        """The data dir, created if missing (platformdirs default, ``CALLNOTES_DATA_DIR`` wins)."""
        path = self.data_dir or Path(platformdirs.user_data_dir("callnotes", appauthor=False))
        path.mkdir(parents=True, exist_ok=True)
        return path

    def resolved_database_url(self) -> str:
        """The SQLAlchemy URL: ``CALLNOTES_DATABASE_URL`` or SQLite in the data dir."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.resolved_data_dir() / 'callnotes.db'}"

    @property
    def demo_mode(self) -> bool:
        """No CRM configured: the app runs against its embedded emulator."""
        return not self.crm_url


def load_settings() -> Settings:
    """Read settings from the environment now (no module-level cache)."""
    return Settings()

