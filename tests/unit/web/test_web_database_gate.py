"""The web app's admission to the database (``web/deps.py``): one SQLite writer at a time, in arrival
order; readers never wait for a writer; a turn that does not come in time is ``DatabaseBusy``."""

from __future__ import annotations

import anyio
import pytest

from callnotes.store.errors import DatabaseBusy
from callnotes.web.deps import DatabaseGate


def test_writers_take_turns_in_arrival_order_and_readers_pass() -> None:
    order: list[str] = []

    async def main() -> None:
        gate = DatabaseGate(serial_writes=True, slots=8, wait_seconds=5)

        async def writer(name: str, hold: float) -> None:
            async with gate.admit(write=True):
                order.append(f"{name} in")
                await anyio.sleep(hold)
                order.append(f"{name} out")

        async def reader() -> None:
            async with gate.admit(write=False):
                order.append("reader")

        async with anyio.create_task_group() as group:
            group.start_soon(writer, "w1", 0.2)
            await anyio.sleep(0.02)
            for name in ("w2", "w3"):
                group.start_soon(writer, name, 0.01)
                await anyio.sleep(0.02)
            group.start_soon(reader)

    anyio.run(main)
    assert order == ["w1 in", "reader", "w1 out", "w2 in", "w2 out", "w3 in", "w3 out"]


def test_a_turn_that_does_not_come_in_time_is_database_busy() -> None:
    async def main() -> None:
        gate = DatabaseGate(serial_writes=True, slots=8, wait_seconds=0.1)
        async with gate.admit(write=True):
            with pytest.raises(DatabaseBusy):
                async with gate.admit(write=True):
                    pass
            async with gate.admit(write=False):  # reading still gets in
                pass
        async with gate.admit(write=True):  # the timed-out waiter left no turn taken
            pass

    anyio.run(main)


def test_slots_bound_concurrent_requests_and_postgres_writes_run_together() -> None:
    peak = 0
    running = 0

    async def main() -> None:
        gate = DatabaseGate(serial_writes=False, slots=3, wait_seconds=5)

        async def request() -> None:
            nonlocal peak, running
            async with gate.admit(write=True):
                running += 1
                peak = max(peak, running)
                await anyio.sleep(0.05)
                running -= 1

        async with anyio.create_task_group() as group:
            for _ in range(10):
                group.start_soon(request)

    anyio.run(main)
    assert peak == 3
