"""Settings precedence (arguments > environment > saved preferences > defaults), the preferences file
(0600, never a secret), and logging that never shows a token."""

from __future__ import annotations

import logging
import os
import stat

import pytest

from callnotes.config import (
    Settings,
    current_writeback,
    env_overrides,
    preferences_path,
    save_preferences,
    saved_preferences,
)
from callnotes.domain import WritebackMode
from callnotes.log_setup import redact, setup_logging


def test_saved_preferences_sit_below_the_environment(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("CALLNOTES_WRITEBACK", raising=False)
    settings = Settings(data_dir=tmp_path)
    assert settings.writeback is WritebackMode.AUTO
    path = save_preferences(settings, writeback="ask", refresh_minutes=15)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600 and path == preferences_path(tmp_path)
    again = Settings(data_dir=tmp_path)
    assert (again.writeback, again.refresh_minutes) == (WritebackMode.ASK, 15)
    assert current_writeback(settings) is WritebackMode.ASK  # read live by a running worker
    monkeypatch.setenv("CALLNOTES_WRITEBACK", "off")
    assert Settings(data_dir=tmp_path).writeback is WritebackMode.OFF and "writeback" in env_overrides()
    save_preferences(settings, writeback=None)  # None removes the key
    assert "writeback" not in saved_preferences(settings)


def test_only_known_non_secret_preferences_are_saved_or_read(tmp_path) -> None:
    settings = Settings(data_dir=tmp_path)
    with pytest.raises(ValueError, match="client_secret"):
        save_preferences(settings, client_secret="s3cret")
    preferences_path(tmp_path).write_text('{"client_secret": "x", "writeback": "ask", "port": 1}')
    assert saved_preferences(settings) == {"writeback": "ask"}
    preferences_path(tmp_path).write_text("not json")  # a damaged file is ignored, not fatal
    assert Settings(data_dir=tmp_path).writeback is WritebackMode.AUTO


def test_tokens_never_reach_the_log(capsys) -> None:
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhZGEifQ.c2lnbmF0dXJl"
    assert "eyJ" not in redact(f"Authorization: Bearer {jwt}") and "<redacted" in redact(jwt)
    setup_logging("INFO")
    logging.getLogger("callnotes.test").warning("sent %s with token %s", "GET /WhoAmI", jwt)
    err = capsys.readouterr().err
    assert "GET /WhoAmI" in err and jwt not in err and "<redacted-jwt>" in err
