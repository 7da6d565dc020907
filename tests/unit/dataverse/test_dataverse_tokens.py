"""Token providers that need no server: JWT display claims, refresh-ahead, static, Azure CLI (a real
subprocess: a stand-in ``az`` script on disk), cache file mode."""

from __future__ import annotations

import json
import os
import stat
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt
import pytest

from callnotes.dataverse import AuthError, AzureCliToken, StaticToken
from callnotes.dataverse.auth import AccessToken, RefreshingProvider, decode_claims
from callnotes.dataverse.msal_auth import write_private


def _jwt(**claims: object) -> str:
    return jwt.encode(dict(claims), "k" * 32, algorithm="HS256")


def test_claims_are_decoded_without_signature_check() -> None:
    exp = int((datetime.now(UTC) + timedelta(hours=1)).timestamp())
    token = _jwt(name="Ada Lovelace", upn="ada@contoso.com", exp=exp, aud="https://org.crm.dynamics.com")
    access = AccessToken.from_jwt(token)
    assert (
        access.claims["upn"] == "ada@contoso.com" and access.claims["aud"] == "https://org.crm.dynamics.com"
    )
    assert access.expires_on == datetime.fromtimestamp(exp, UTC)
    assert access.display_name == "Ada Lovelace"
    assert token not in repr(access)
    assert decode_claims("not-a-jwt") == {}


class Counting(RefreshingProvider):
    def __init__(self, lifetime: timedelta, now: datetime) -> None:
        super().__init__(now=lambda: self.clock)
        self.clock, self.lifetime, self.calls = now, lifetime, 0

    def _fetch(self, *, force_refresh: bool) -> AccessToken:
        self.calls += 1
        return AccessToken(f"t{self.calls}", self.clock + self.lifetime)


def test_refresh_when_less_than_ten_minutes_left_or_forced() -> None:
    start = datetime(2024, 1, 1, tzinfo=UTC)
    provider = Counting(timedelta(hours=1), start)
    assert provider.get_token().token == "t1"
    provider.clock = start + timedelta(minutes=49)
    assert provider.get_token().token == "t1"  # 11 minutes left: keep
    provider.clock = start + timedelta(minutes=51)
    assert provider.get_token().token == "t2"  # 9 minutes left: refresh ahead
    assert provider.get_token(force_refresh=True).token == "t3"


def test_static_token() -> None:
    provider = StaticToken(_jwt(exp=2_000_000_000))
    assert provider.get_token().expires_on.year == 2033
    with pytest.raises(AuthError):
        StaticToken("")


def _fake_az(tmp_path: Path, body: str) -> str:
    script = tmp_path / "az"
    script.write_text(f"#!{sys.executable}\nimport sys\n{body}\n")
    script.chmod(0o755)
    return str(script)


def test_azure_cli_token_through_a_real_subprocess(tmp_path: Path) -> None:
    exp = int((datetime.now(UTC) + timedelta(hours=1)).timestamp())
    token = _jwt(upn="ada@contoso.com", exp=exp, aud="https://org.crm.dynamics.com")
    args_file = tmp_path / "args.json"
    az = _fake_az(
        tmp_path,
        f"import json\nopen({str(args_file)!r}, 'w').write(json.dumps(sys.argv[1:]))\n"
        f"print(json.dumps({{'accessToken': {token!r}, 'expires_on': {exp}}}))",
    )
    provider = AzureCliToken("https://org.crm.dynamics.com/", "tenant-1", az_path=az)
    got = provider.get_token()
    assert got.token == token and got.claims["upn"] == "ada@contoso.com"
    args = json.loads(args_file.read_text())
    assert args[:2] == ["account", "get-access-token"]
    assert args[args.index("--resource") + 1] == "https://org.crm.dynamics.com"
    assert args[args.index("--tenant") + 1] == "tenant-1"


def test_azure_cli_not_logged_in_missing_and_garbage(tmp_path: Path) -> None:
    az = _fake_az(
        tmp_path, "sys.stderr.write(\"ERROR: Please run 'az login' to setup account.\\n\"); sys.exit(1)"
    )
    with pytest.raises(AuthError, match="az login --tenant t"):
        AzureCliToken("https://x", "t", az_path=az).get_token()
    with pytest.raises(AuthError, match="could not be started"):
        AzureCliToken("https://x", az_path=str(tmp_path / "nope")).get_token()
    garbage = tmp_path / "g"
    garbage.mkdir()
    with pytest.raises(AuthError, match="not a token"):
        AzureCliToken("https://x", az_path=_fake_az(garbage, "print('hello')")).get_token()
    slow = tmp_path / "s"
    slow.mkdir()
    with pytest.raises(AuthError, match="did not answer"):
        AzureCliToken(
            "https://x", az_path=_fake_az(slow, "import time; time.sleep(5)"), timeout=0.5
        ).get_token()


def test_azure_cli_absent_from_path(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(AuthError, match="not installed"):
        AzureCliToken("https://x").get_token()


def test_private_file_is_0600(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "cache.json"
    write_private(target, "{}")
    write_private(target, '{"a": 1}')
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600
    assert target.read_text() == '{"a": 1}'


class ShortLived(RefreshingProvider):
    """A source that keeps handing back a token with only 5 minutes left (like a cached az token)."""

    def __init__(self, now: datetime) -> None:
        super().__init__(now=lambda: self.clock)
        self.clock, self.calls = now, 0

    def _fetch(self, *, force_refresh: bool) -> AccessToken:
        self.calls += 1
        return AccessToken(f"t{self.calls}", self.clock + timedelta(minutes=5))


def test_nearly_expired_source_is_not_asked_on_every_request() -> None:
    start = datetime(2024, 1, 1, tzinfo=UTC)
    provider = ShortLived(start)
    for _ in range(5):
        provider.get_token()
    assert provider.calls == 1
    provider.clock = start + timedelta(seconds=61)
    provider.get_token()
    assert provider.calls == 2
    provider.clock = start + timedelta(minutes=30)  # expired: always fetch
    provider.get_token()
    assert provider.calls == 3
