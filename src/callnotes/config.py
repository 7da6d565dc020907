"""Settings from the environment (``CALLNOTES_*``), one place for every knob.

It imports only the shared vocabulary (``callnotes.domain``): every layer above the generic ones may
read it, and the MSX defaults it needs (the corporate tenant) are applied where a connection is built
(sync/connection.py). Precedence: arguments, then ``CALLNOTES_*`` variables, then the preferences the
user saved in the app (``settings.json`` in the data dir, 0600, never a secret), then the defaults.
"""

from __future__ import annotations

import json
import os
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

import platformdirs
from pydantic import Field, PrivateAttr, SecretStr
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from callnotes.domain import WritebackMode

ENV_PREFIX = "CALLNOTES_"
#: Preferences the app saves for the user (settings page), below the environment: never a secret.
PREFERENCES_FILE = "settings.json"
SAVED_FIELDS = frozenset({"crm_url", "auth", "tenant_id", "client_id", "writeback", "refresh_minutes",
                          "connection_choice"})
#: The connection settings the app re-reads on every use (the settings page changes them live).
CONNECTION_FIELDS = ("crm_url", "auth", "tenant_id", "client_id")
#: A service principal's secret, entered on the settings page: its own 0600 file in the data dir.
CLIENT_SECRET_FILE = "client_secret"  # noqa: S105 - a file name


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
    #: The job queue's name (processes that share it share the work; one Redis can hold several).
    queue_name: str = Field(default="callnotes", pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    data_dir: Path | None = None
    host: str = "127.0.0.1"
    port: int = 5151
    log_level: str = "INFO"
    require_services: bool = False
    #: Whether queued CRM writes leave on their own (auto), wait for approval (ask), or are not queued.
    writeback: WritebackMode = WritebackMode.AUTO
    #: Minutes between scheduled refreshes of the MSX mirror.
    refresh_minutes: int = Field(default=30, ge=1, le=24 * 60)
    #: How long a worker's claim on an outbox row lasts (a killed worker's rows are freed after it).
    outbox_lease_seconds: int = Field(default=120, ge=1, le=3600)
    #: Identity platform sign-in goes to (device code, client credentials); the emulator serves one.
    authority_host: str = Field(default="https://login.microsoftonline.com", pattern=r"^https?://[^\s/]+/?$")
    #: Generic sync (issue 11). The key Dataverse sends with each webhook (``?code=``, or a header / query
    #: parameter named ``webhook_key_name``); an HMAC-SHA256 secret when deliveries are signed.
    webhook_key: SecretStr | None = None
    webhook_key_name: str = Field(default="x-callnotes-key", pattern=r"^[A-Za-z0-9_-]{1,64}$")
    webhook_secret: SecretStr | None = None
    #: Mapping files pushed on a schedule (separated by commas), and the minutes between pushes.
    push_mappings: str | None = None
    push_minutes: int = Field(default=60, ge=1, le=24 * 60)
    #: What the user chose on the first-run screen ("Try the demo" / "Connect to MSX"); unset = not yet.
    connection_choice: Literal["demo", "msx"] | None = None
    #: Fields given as arguments (they win over saved preferences, like the environment).
    _arguments: frozenset[str] = PrivateAttr(default=frozenset())

    def __init__(self, **values: Any) -> None:
        super().__init__(**values)
        self._arguments = frozenset(name for name, value in values.items()
                                    if value is not None and not name.startswith("_"))

    def fixed_fields(self) -> set[str]:
        """Connection fields (and the secret) set by the environment or arguments: the page cannot
        change them (the environment wins)."""
        names = {*CONNECTION_FIELDS, "client_secret"}
        return env_overrides(names) | (self._arguments & names)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Arguments, then the environment, then what the user saved in the app (``settings.json``)."""
        return init_settings, env_settings, _SavedPreferences(settings_cls)

    def resolved_data_dir(self) -> Path:
        """The data dir, created if missing (platformdirs default, ``CALLNOTES_DATA_DIR`` wins).
        POSIX: owner only (0700; one left group- or world-readable by an older version is tightened)."""
        path = self.data_dir or _default_data_dir()
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        status = path.stat()
        if os.name == "posix" and status.st_mode & 0o077 and status.st_uid == os.getuid():
            path.chmod(0o700)
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


def _default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir("callnotes", appauthor=False))


def preferences_path(data_dir: Path | None) -> Path:
    return (data_dir or _default_data_dir()) / PREFERENCES_FILE


class _SavedPreferences(PydanticBaseSettingsSource):
    """``<data dir>/settings.json``: only `SAVED_FIELDS`, and only where nothing above set them."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        data_dir = self.current_state.get("data_dir")
        return _read_saved(preferences_path(Path(data_dir) if data_dir else None))


def env_overrides(names: set[str] | frozenset[str] = SAVED_FIELDS) -> set[str]:
    """Which of ``names`` the environment sets (the page says so: the environment wins)."""
    return {name for name in names if f"{ENV_PREFIX}{name.upper()}" in os.environ}


def _read_saved(path: Path) -> dict[str, Any]:
    try:
        saved = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {k: v for k, v in saved.items() if k in SAVED_FIELDS} if isinstance(saved, dict) else {}


def saved_preferences(settings: Settings) -> dict[str, Any]:
    """What the user saved in the app (only `SAVED_FIELDS`), read now."""
    return _read_saved(preferences_path(settings.data_dir))


def current_writeback(settings: Settings) -> WritebackMode:
    """The write-back mode now: ``CALLNOTES_WRITEBACK`` wins, then the settings page's choice (read
    live, so a running worker follows it), then ``settings``."""
    if f"{ENV_PREFIX}WRITEBACK" in os.environ:
        return settings.writeback
    try:
        return WritebackMode(saved_preferences(settings).get("writeback", settings.writeback))
    except ValueError:
        return settings.writeback


def save_preferences(settings: Settings, **changes: object) -> Path:
    """Merge ``changes`` (a subset of `SAVED_FIELDS`) into the preferences file, written 0600 and
    atomically; a value of None removes the key. Returns the file's path."""
    unknown = set(changes) - SAVED_FIELDS
    if unknown:
        raise ValueError(f"not a saved preference: {', '.join(sorted(unknown))}")
    path = preferences_path(settings.data_dir)
    merged = {**_read_saved(path), **changes}
    text = json.dumps({k: v for k, v in merged.items() if v is not None}, indent=2, sort_keys=True)
    _write_private(path, text)
    return path


def _write_private(path: Path, text: str) -> None:
    """``text`` into ``path`` through a 0600 temporary file and an atomic rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(temporary, path)


def live_settings(settings: Settings) -> Settings:
    """``settings`` with the connection fields as saved now (the settings page changes them while
    the app runs); fields the environment or arguments set keep their values."""
    fixed = settings.fixed_fields()
    saved = saved_preferences(settings)
    update: dict[str, Any] = {}
    for name in CONNECTION_FIELDS:
        if name not in fixed:
            value = saved.get(name) or None
            update[name] = _auth_mode_or_none(value) if name == "auth" else value
    if "client_secret" not in fixed:
        secret = read_client_secret(settings)
        update["client_secret"] = SecretStr(secret) if secret else None
    return settings.model_copy(update=update)


def _auth_mode_or_none(value: object) -> AuthMode | None:
    try:
        return AuthMode(str(value)) if value else None
    except ValueError:  # a hand-edited settings.json: as if unset
        return None


def client_secret_path(settings: Settings) -> Path:
    return (settings.data_dir or _default_data_dir()) / CLIENT_SECRET_FILE


def read_client_secret(settings: Settings) -> str | None:
    """The secret saved on the settings page (never in settings.json, the database or a log)."""
    try:
        return client_secret_path(settings).read_text(encoding="utf-8").strip() or None
    except OSError:
        return None


def save_client_secret(settings: Settings, secret: str | None) -> None:
    """Keep ``secret`` in its own 0600 file in the data dir; None removes the file."""
    path = client_secret_path(settings)
    if secret:
        _write_private(path, secret)
    else:
        path.unlink(missing_ok=True)


def load_settings() -> Settings:
    """Read settings from the environment now (no module-level cache)."""
    return Settings()

