"""Replay on two cores: the per-station detectors in forked children, the rest in this process.

A replay is one stream through one pipeline, and the second tier (area rainfall, neighbour
agreement, the seismic network, chains) couples stations, so it cannot be split by station. It
can be split by stage: the first tier (each station's own detectors, about half the work of a
storm replay: docs/performance.md) depends only on its station's readings and the clock, the
rest only on the readings and what the first tier found in them.

:class:`SplitReplay` forks children (:data:`FIRST_TIER_PROCESSES`, each with a contiguous share
of the stations) that run the same cadence over the same source (generation is seeded, so each
makes the same items) through admission and the first tier of their stations only, and stream
back, per batch, the findings of each admitted reading of theirs that had any and, per tick,
their stations' time-driven findings. This process admits the same readings (admission is
deterministic), runs the first tier of the last :data:`OWN_SHARE` of the stations itself (it
would otherwise wait for the child), the second tier and the alert book, and all work at once. The
output is the single-process replay's, finding for finding (``tests/unit/replay/test_split.py``;
``python -m bench.outputs`` over the shipped scenarios).
"""

from __future__ import annotations

import multiprocessing
import traceback
from collections import deque
from multiprocessing.connection import Connection
from typing import Any

from yujing.contracts import Finding
from yujing.pipeline import Pipeline, StepResult
from yujing.replay.driver import Progress, Replay, ReplayOptions, ReplayStats
from yujing.replay.recorder import RecordingGrader
from yujing.replay.sources import Item, ReplaySource

__all__ = ["FIRST_TIER_PROCESSES", "SplitReplay"]

FIRST_TIER_PROCESSES = 1
"""Children sharing the first tier by station. One on two cores: with one child this process
waited for it a third of the time, with two it no longer waited but the three processes shared
two cores and a 4 h slice of the city storm took as long (9.1 vs 9.2 s); more children pay off
only with more cores."""

OWN_SHARE = 0.15
"""Share of the stations (the last in registry order) whose first tier runs in this process:
with all of it in the child, this process waited for the child a third of the time. A 4 h
slice of the city storm, twice each: 10.8 / 10.5 s with none here, 10.0 / 9.9 s with 15 %
(waiting 1.4 s instead of 3.7), 10.8 s with 20 %."""

RECORDS_PER_SEND = 32
"""Records (one per batch or tick) per message on the pipe: fewer, larger pickles."""

BatchRecord = list[tuple[int, list[Finding]]]  # (index among admitted readings, findings)
TickRecord = list[Finding]


class _FirstTier(Replay):
    """A child's loop: :class:`Replay`'s cadence, admission of every item (cheap, and the
    indices must agree) and the first tier of its own ``stations`` only."""

    def __init__(
        self,
        pipeline: Pipeline,
        grader: RecordingGrader,
        options: ReplayOptions,
        stations: list[str],
        out: Connection,
    ) -> None:
        super().__init__(pipeline, grader, options)
        self._stations = stations
        self._mine = frozenset(stations)
        self._out = out
        self._pending: list[BatchRecord | TickRecord] = []

    def _batch(self, batch: list[Item], now: float, wire: bool) -> StepResult:
        pipeline, mine = self.pipeline, self._mine
        found: BatchRecord = []
        rejected = StepResult()  # dead letters: the parent makes its own
        for k, reading in enumerate(pipeline.admitted(batch, now, rejected, wire=wire)):
            if reading.station in mine:
                first = pipeline.first_tier(reading)
                if first:
                    found.append((k, first))
        self._send(found)
        return rejected

    def _tick(self, at: float) -> StepResult:
        self._send(self.pipeline.first_tier_advance(at, self._stations))
        return StepResult()

    def _send(self, record: BatchRecord | TickRecord) -> None:
        self._pending.append(record)
        if len(self._pending) >= RECORDS_PER_SEND:
            self.flush()

    def flush(self) -> None:
        if self._pending:
            self._out.send(self._pending)
            self._pending = []


def _child(first: _FirstTier, source: ReplaySource, out: Connection) -> None:
    """A forked child: run, then say "done" (None) or why it failed (a traceback)."""
    try:
        first.run(source)
        first.flush()
        out.send(None)
    except BaseException:  # the parent must hear of any failure, not wait forever
        out.send(traceback.format_exc())
    finally:
        out.close()


class _Records:
    """One child's stream of records, read as needed."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self._records: deque[Any] = deque()

    def next(self) -> Any:
        while not self._records:
            try:
                message = self.connection.recv()
            except EOFError:
                raise RuntimeError("a first-tier process died") from None
            if message is None:
                raise RuntimeError("a first-tier process ended before the replay")
            if isinstance(message, str):
                raise RuntimeError(f"a first-tier process failed:\n{message}")
            self._records.extend(message)
        return self._records.popleft()


def _slices(stations: list[str], parts: int) -> list[list[str]]:
    """``parts`` contiguous slices of ``stations`` (registry order: concatenated, the children's
    tick findings come in the order one process gives them)."""
    size = -(-len(stations) // parts)
    return [stations[i : i + size] for i in range(0, len(stations), size)] or [[]]


class SplitReplay(Replay):
    """A :class:`Replay` whose first tier runs in forked children (see the module docstring)."""

    def __init__(
        self,
        pipeline: Pipeline,
        grader: RecordingGrader,
        options: ReplayOptions | None = None,
        *,
        processes: int = FIRST_TIER_PROCESSES,
        own_share: float = OWN_SHARE,
    ) -> None:
        super().__init__(pipeline, grader, options)
        self.processes = processes
        self._children: list[_Records] = []
        stations = list(pipeline.detectors)
        keep = min(len(stations) - 1, round(own_share * len(stations))) if stations else 0
        self._theirs = stations[: len(stations) - max(0, keep)]
        self._own = stations[len(self._theirs) :]  # the last ones: tick findings stay in order
        self._mine = frozenset(self._own)

    def run(self, source: ReplaySource, progress: Progress | None = None) -> ReplayStats:
        context = multiprocessing.get_context("fork")  # children inherit pipeline and source
        started = []
        self._children = []
        for stations in _slices(self._theirs, self.processes):
            receive, send = context.Pipe(duplex=False)
            first = _FirstTier(self.pipeline, self.grader, self.options, stations, send)
            child = context.Process(target=_child, args=(first, source, send), daemon=True)
            child.start()
            send.close()  # the child's end: EOF here if it dies
            started.append((child, receive))
            self._children.append(_Records(receive))
        try:
            return super().run(source, progress)
        finally:
            for child, receive in started:
                if child.is_alive():
                    child.kill()
                child.join()
                receive.close()

    def _batch(self, batch: list[Item], now: float, wire: bool) -> StepResult:
        pipeline = self.pipeline
        found: dict[int, list[Finding]] = {}
        for child in self._children:
            found.update(child.next())
        out = StepResult()
        mine = self._mine
        for k, reading in enumerate(pipeline.admitted(batch, now, out, wire=wire)):
            if reading.station in mine:
                first = pipeline.first_tier(reading)
            else:
                first = found.get(k) or []
            pipeline.second_tier(reading, first, out)
        pipeline.grade(out, now)
        return out

    def _tick(self, at: float) -> StepResult:
        first: list[Finding] = []
        for child in self._children:
            first.extend(child.next())
        if self._own:
            first.extend(self.pipeline.first_tier_advance(at, self._own))
        return self.pipeline.tick_after(at, first)
