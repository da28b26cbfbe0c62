"""Where the stages keep their state: a table with explicit partitions, and checkpoints.

A stage reads its table and writes it only at a checkpoint, each value into the partition of the
key's source records (so a table stays co-partitioned with its topic; STYLE §4). The Faust app
implements :class:`StateTable` over a Faust table (the store plus its changelog topic);
:class:`DictTable` is a plain in-process one for tests of the stages and for benchmarks.

Checkpoints (:class:`Checkpoints`) are what make a stage's state and its outputs agree after a
crash: records are handled one by one on live objects, their outputs sent at once; at a
checkpoint the agent waits until Kafka has every output sent so far, then writes the changed
state, then acknowledges the records (their offsets may now be committed). A crash anywhere
replays, from the last committed offset, records whose effect is either wholly in the state (the
stage skips them by offset) or not at all (they run again and send the same numbered outputs,
which the next stage applies once).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, Protocol

__all__ = ["Checkpoints", "DictTable", "StateTable"]


class StateTable(Protocol):
    def get(self, key: str) -> Any: ...
    def items(self) -> Iterable[tuple[str, Any]]: ...
    def put(self, partition: int, key: str, value: Any) -> None: ...
    def delete(self, partition: int, key: str) -> None: ...


class DictTable:
    """A :class:`StateTable` in a dict; ``writes`` counts puts and deletes per partition."""

    def __init__(self) -> None:
        self.data: dict[str, Any] = {}
        self.writes: dict[int, int] = {}

    def get(self, key: str) -> Any:
        return self.data.get(key)

    def items(self) -> Iterable[tuple[str, Any]]:
        return list(self.data.items())

    def put(self, partition: int, key: str, value: Any) -> None:
        self.data[key] = value
        self.writes[partition] = self.writes.get(partition, 0) + 1

    def delete(self, partition: int, key: str) -> None:
        self.data.pop(key, None)
        self.writes[partition] = self.writes.get(partition, 0) + 1


class Checkpoints:
    """Records handled since the last checkpoint, and the sends they made.

    Due every ``every_s`` (wall time; 0: after every record) or after ``max_records``.
    """

    def __init__(self, every_s: float, max_records: int = 10_000) -> None:
        self.every_s = every_s
        self.max_records = max_records
        self.records: list[Any] = []
        self.sends: list[Awaitable[object]] = []
        self._last = time.monotonic()
        self.count = 0

    def add(self, record: Any, sends: Iterable[Awaitable[object]]) -> None:
        self.records.append(record)
        self.sends.extend(sends)

    def due(self) -> bool:
        if not self.records:
            return False
        return (
            len(self.records) >= self.max_records or time.monotonic() - self._last >= self.every_s
        )

    async def run(
        self,
        gather: Callable[[list[Awaitable[object]]], Awaitable[object]],
        write: Callable[[], object],
        ack: Callable[[Any], Awaitable[object]],
    ) -> int:
        """Wait for the sends, write the state, acknowledge the records; returns how many."""
        sends, records = self.sends, self.records
        self.sends, self.records = [], []
        await gather(sends)
        write()
        for record in records:
            await ack(record)
        self._last = time.monotonic()
        self.count += 1
        return len(records)
