"""``EmulatorServer``: a real uvicorn server in a background thread on a free loopback port.

Used by the test fixtures, the benches and demo mode::

    with EmulatorServer(EmulatorConfig(accounts=20, seed=7)) as emu:
        httpx.get(emu.api_url + "/WhoAmI", headers={"Authorization": f"Bearer {emu.mint_token()}"})

``EmulatorServer(config, tls=True)`` serves HTTPS with a certificate made at start (see
:mod:`callnotes.emulator.tls`); ``ca_file`` is the CA to trust and ``verify`` an SSL context for httpx.
"""

from __future__ import annotations

import socket
import ssl
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx
import uvicorn

from callnotes.emulator.app import API_PREFIX, EmulatorApp, create_app
from callnotes.emulator.config import EmulatorConfig, Service
from callnotes.emulator.tls import TlsFiles, make_tls_files

_START_TIMEOUT_S = 30.0


class EmulatorStartError(RuntimeError):
    """The emulator did not start answering in time (the message says what was seen)."""


def build_default_service(config: EmulatorConfig) -> Service:
    """The MSX-shaped data set for ``config`` (deterministic for its seed and size)."""
    from callnotes.emulator.service import build_service

    return build_service(config.seed, config.accounts, msx_quirks=config.msx_quirks)


def uvicorn_config(app: EmulatorApp, tls: TlsFiles | None = None, **overrides: Any) -> uvicorn.Config:
    """How the emulator runs under uvicorn (h11 on asyncio: what the drop faults rely on), over TLS
    with ``tls``'s certificate when given."""
    settings: dict[str, Any] = {
        "log_level": "warning",
        "access_log": False,
        "lifespan": "off",
        "loop": "asyncio",
        "http": "h11",
        "timeout_keep_alive": 30,
    }
    if tls is not None:
        settings |= {"ssl_certfile": str(tls.cert_file), "ssl_keyfile": str(tls.key_file)}
    settings.update(overrides)
    return uvicorn.Config(app, **settings)


def public_url(host: str, port: int, *, tls: bool) -> str:
    """The URL a local client uses (a wildcard bind is reached on 127.0.0.1)."""
    shown = "127.0.0.1" if host in ("0.0.0.0", "") else f"[{host}]" if ":" in host else host  # noqa: S104
    return f"{'https' if tls else 'http'}://{shown}:{port}"


def listening_socket(host: str, port: int) -> socket.socket:
    """A bound TCP socket for uvicorn's ``sockets=``; raises ``OSError`` if the port is taken.

    TCP_NODELAY is set here because sockets handed to uvicorn do not get it otherwise, and
    Nagle's algorithm plus delayed ACKs then add ~40 ms to every response.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


class EmulatorServer:
    """Starts on ``__enter__`` (or :meth:`start`), stops on ``__exit__`` (or :meth:`stop`)."""

    def __init__(
        self, config: EmulatorConfig | None = None, *, service: Service | None = None, tls: bool = False
    ) -> None:
        self.config = config or EmulatorConfig()
        self._given_service = service
        self._tls_wanted = tls
        self._tls: TlsFiles | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._app: EmulatorApp | None = None
        self.url = ""
        self.api_url = ""

    # --- lifecycle ----------------------------------------------------------------------

    def start(self) -> EmulatorServer:
        if self._server is not None:
            raise RuntimeError("this EmulatorServer is already running")
        service = self._given_service or build_default_service(self.config)
        self._app = create_app(self.config, service)
        sock = listening_socket(self.config.host, self.config.port)
        port = sock.getsockname()[1]
        self._tls = make_tls_files() if self._tls_wanted else None
        self.url = public_url(self.config.host, port, tls=self._tls is not None)
        self.api_url = self.url + API_PREFIX
        self._server = uvicorn.Server(uvicorn_config(self._app, self._tls))
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, name=f"emulator-{port}", daemon=True
        )
        self._thread.start()
        try:
            self._wait_until_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + _START_TIMEOUT_S
        last_error = "no answer"
        verify = self.verify
        while time.monotonic() < deadline:
            if self._thread is not None and not self._thread.is_alive():
                raise EmulatorStartError(f"the emulator thread stopped during start-up ({self.url})")
            try:
                if httpx.get(self.url + "/_emulator/stats", timeout=1.0, verify=verify).status_code == 200:
                    return
            except httpx.HTTPError as exc:
                last_error = str(exc)
            time.sleep(0.02)
        raise EmulatorStartError(
            f"the emulator at {self.url} did not answer within {_START_TIMEOUT_S}s: {last_error}"
        )

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self._app is not None:
            self._app.state.close()
        self._server = None
        self._thread = None
        if self._tls is not None:
            self._tls.remove()
            self._tls = None

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # --- what tests and tools use ---------------------------------------------------------

    @property
    def app(self) -> EmulatorApp:
        if self._app is None:
            raise RuntimeError("the EmulatorServer has not been started")
        return self._app

    @property
    def ca_file(self) -> Path | None:
        """The CA certificate a client must trust (``tls=True``), else ``None``."""
        return self._tls.ca_file if self._tls is not None else None

    @property
    def verify(self) -> ssl.SSLContext | bool:
        """What to pass as httpx ``verify=``: a context trusting this server's CA, or ``True``."""
        return self._tls.client_context() if self._tls is not None else True

    @property
    def service(self) -> Service:
        return self.app.state.service

    @property
    def demo_user_id(self) -> str:
        return self.app.state.service.demo_user_id

    def mint_token(self, expires_in: int = 3600) -> str:
        """A bearer token for the demo user, valid for this server's URL."""
        return self.app.state.mint_token(self.url, expires_in)

    def stats(self) -> dict[str, Any]:
        return self.app.state.stats.snapshot()

    def reset_stats(self) -> None:
        self.app.state.stats.reset()

    def requests(self, limit: int | None = None) -> list[dict[str, Any]]:
        """The most recent Web API requests, oldest first."""
        return self.app.state.stats.recent(limit)

    def configure(self, **changes: Any) -> dict[str, Any]:
        """Same keys and validation as ``POST /_emulator/config``; returns the new settings."""
        return self.app.state.configure(changes)
