"""The bounded queue: never blocks, drops oldest bulk first, conserves every point."""

from __future__ import annotations

import threading

import pytest

from yujing.storage.queue import Chunk, PointQueue


def chunk(name: str, items: list[int]) -> Chunk:
    return Chunk(name, items, str)


def drain_items(q: PointQueue) -> list[tuple[str, list[int]]]:
    return [(c.measurement, list(c.items)) for c in q.take(10**9, wait_s=0)]


def test_eviction_takes_bulk_before_priority_and_splits_chunks() -> None:
    q = PointQueue(limit=5)
    assert q.put(chunk("alert", [1, 2]), priority=True) == 0
    assert q.put(chunk("reading", [10, 11, 12])) == 0
    assert q.put(chunk("reading", [13, 14])) == 2  # 10 and 11 go
    assert len(q) == 5
    assert q.put(chunk("alert", [3, 4, 5]), priority=True) == 3  # 12, 13, 14 then nothing else
    assert drain_items(q) == [("alert", [1, 2]), ("alert", [3, 4, 5])]
    assert q.put(chunk("alert", [6]), priority=True) == 0


def test_alerts_alone_overflowing_drop_the_oldest_alerts() -> None:
    q = PointQueue(limit=2)
    q.put(chunk("alert", [1, 2]), priority=True)
    assert q.put(chunk("alert", [3]), priority=True) == 1
    assert drain_items(q) == [("alert", [2]), ("alert", [3])]


def test_a_chunk_larger_than_the_queue_keeps_its_newest_points() -> None:
    q = PointQueue(limit=3)
    q.put(chunk("reading", [0]))
    assert q.put(chunk("reading", [1, 2, 3, 4, 5])) == 3  # 1, 2 of the chunk and the old 0
    assert drain_items(q) == [("reading", [3, 4, 5])]


def test_take_hands_out_at_most_max_points_priority_first() -> None:
    q = PointQueue(limit=100)
    q.put(chunk("reading", list(range(5))))
    q.put(chunk("alert", [100]), priority=True)
    first = q.take(3, wait_s=0)
    assert [(c.measurement, list(c.items)) for c in first] == [
        ("alert", [100]),
        ("reading", [0, 1]),
    ]
    assert len(q) == 3
    assert drain_items(q) == [("reading", [2, 3, 4])]


def test_take_waits_for_a_full_batch_or_close() -> None:
    q = PointQueue(limit=100, wake_at=3)
    got: list[list[Chunk]] = []
    taker = threading.Thread(target=lambda: got.append(q.take(10, wait_s=30)))
    taker.start()
    q.put(chunk("reading", [1]))
    q.put(chunk("reading", [2, 3]))  # reaches wake_at: the taker wakes
    taker.join(10)
    assert not taker.is_alive()
    assert sum(len(c) for c in got[0]) == 3
    q.close()
    assert q.take(10, wait_s=30) == []  # closed: no waiting


def test_concurrent_put_and_take_lose_nothing_uncounted() -> None:
    q = PointQueue(limit=500, wake_at=50)
    dropped = taken = 0
    done = threading.Event()

    def consume() -> None:
        nonlocal taken
        while not done.is_set() or len(q):
            taken += sum(len(c) for c in q.take(64, wait_s=0.01))

    consumer = threading.Thread(target=consume)
    consumer.start()
    for i in range(2000):
        dropped += q.put(chunk("reading", list(range(i % 7 + 1))), priority=i % 10 == 0)
    done.set()
    consumer.join(10)
    total = sum(i % 7 + 1 for i in range(2000))
    assert taken + dropped == total


def test_limit_must_be_positive() -> None:
    with pytest.raises(ValueError, match="limit must be positive"):
        PointQueue(0)
