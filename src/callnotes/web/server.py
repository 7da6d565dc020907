"""Running the web app under uvicorn: loopback-only unless told otherwise, and a thread runner for tests."""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import threading
import time
from collections.abc import Iterator

import uvicorn
from fastapi import FastAPI

_LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})


class RemoteBindRefused(Exception):
    """Binding to a non-loopback address was asked for without ``allow_remote``."""


def trusted_hosts(host: str, *, allow_remote: bool) -> list[str]:
    """The ``Host`` header values the app accepts when listening on ``host``."""
    if allow_remote and not is_loopback(host):
        return ["*"]
    return sorted({"127.0.0.1", "localhost", "[::1]", "::1", host.strip().lower()})


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and the usual names for them."""
    name = host.strip().strip("[]").lower()
    if name in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def check_bind_host(host: str, *, allow_remote: bool) -> None:
    """Raise :class:`RemoteBindRefused` unless ``host`` is loopback or remote access was allowed."""
    if not allow_remote and not is_loopback(host):
        raise RemoteBindRefused(
            f"refusing to listen on {host!r}: it is reachable from other machines and the notes hold "
            "customer data. Use 127.0.0.1, or pass --allow-remote if you really mean it."
        )


def serve(app: FastAPI, host: str, port: int, *, allow_remote: bool = False, log_level: str = "info") -> None:
    """Serve ``app`` in the foreground (blocks until interrupted)."""
    check_bind_host(host, allow_remote=allow_remote)
    uvicorn.run(app, host=host, port=port, log_level=log_level.lower(), proxy_headers=False)


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def running_server(app: FastAPI, host: str = "127.0.0.1", port: int | None = None) -> Iterator[str]:
    """Run ``app`` under real uvicorn in a thread; yields the base URL, stops on exit."""
    check_bind_host(host, allow_remote=False)
    config = uvicorn.Config(app, host=host, port=port or free_port(host), log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="callnotes-web", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the web server did not start")
        time.sleep(0.02)
    try:
        yield f"http://{host}:{config.port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
