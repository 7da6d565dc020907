"""What the benchmarks share: is a local service there? (Scripts run as ``python bench/<name>.py``,
so this folder is on ``sys.path`` and ``from _services import …`` works.)"""

from __future__ import annotations

import socket


def postgres_reachable(host: str = "127.0.0.1", port: int = 5432) -> bool:
    """True when something accepts TCP connections on the PostgreSQL port."""
    try:
        with socket.create_connection((host, port), timeout=1.0):
            return True
    except OSError:
        return False
