"""Replay on two cores: the per-station detectors in a forked child, the rest in this process.

A replay is one stream through one pipeline, and the second tier (area rainfall, neighbour
agreement, the seismic network, chains) couples stations, so it cannot be split by station. It
can be split by stage: the first tier (each station's own detectors, about half the work of a
storm replay: docs/performance.md) depends only on its station's readings and the clock, the
rest only on the readings and what the first tier found in them.

:class:`SplitReplay` forks a child that runs the same cadence over the same source (generation
is seeded, so the child makes the same items) through admission and the first tier only, and
streams back, per batch, the findings of each admitted reading that had any and, per tick, the
first tier's time-driven findings. This process admits the same readings (admission is
deterministic), runs the second tier and the alert book on them, and both work at once. The
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

__all__ = ["SplitReplay"]

RECORDS_PER_SEND = 32
"""Records (one per batch or tick) per message on the pipe: fewer, larger pickles."""

BatchRecord = list[tuple[int, list[Finding]]]  # (index among admitted readings, findings)
TickRecord = list[Finding]


class _FirstTier(Replay):
    """The child's loop: :class:`Replay`'s cadence, admission and the first tier only."""

    def __init__(
        self, pipeline: Pipeline, grader: RecordingGrader, options: ReplayOptions, out: Connection
    ) -> None:
        super().__init__(pipeline, grader, options)
        self._out = out
        self._pending: list[BatchRecord | TickRecord] = []

    def _batch(self, batch: list[Item], now: float, wire: bool) -> StepResult:
        pipeline = self.pipeline
        found: BatchRecord = []
        rejected = StepResult()  # dead letters: the parent makes its own
        for k, reading in enumerate(pipeline.admitted(batch, now, rejected, wire=wire)):
            first = pipeline.first_tier(reading)
            if first:
                found.append((k, first))
        self._send(found)
        return rejected

    def _tick(self, at: float) -> StepResult:
        self._send(self.pipeline.first_tier_advance(at))
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
    """The forked child: run, then say "done" (None) or why it failed (a traceback)."""
    try:
        first.run(source)
        first.flush()
        out.send(None)
    except BaseException:  # the parent must hear of any failure, not wait forever
        out.send(traceback.format_exc())
    finally:
        out.close()


class SplitReplay(Replay):
    """A :class:`Replay` whose first tier runs in a forked child (see the module docstring)."""

    def __init__(
        self, pipeline: Pipeline, grader: RecordingGrader, options: ReplayOptions | None = None
    ) -> None:
        super().__init__(pipeline, grader, options)
        self._records: deque[Any] = deque()
        self._in: Connection | None = None

    def run(self, source: ReplaySource, progress: Progress | None = None) -> ReplayStats:
        context = multiprocessing.get_context("fork")  # the child inherits pipeline and source
        receive, send = context.Pipe(duplex=False)
        first = _FirstTier(self.pipeline, self.grader, self.options, send)
        child = context.Process(target=_child, args=(first, source, send), daemon=True)
        child.start()
        send.close()  # the child's end: EOF here if it dies
        self._in = receive
        try:
            return super().run(source, progress)
        finally:
            if child.is_alive():
                child.kill()
            child.join()
            receive.close()

    def _batch(self, batch: list[Item], now: float, wire: bool) -> StepResult:
        pipeline = self.pipeline
        found: dict[int, list[Finding]] = dict(self._next())
        out = StepResult()
        for k, reading in enumerate(pipeline.admitted(batch, now, out, wire=wire)):
            pipeline.second_tier(reading, found.get(k) or [], out)
        pipeline.grade(out, now)
        return out

    def _tick(self, at: float) -> StepResult:
        return self.pipeline.tick_after(at, self._next())

    def _next(self) -> Any:
        """The child's next record, in the order both loops produce them."""
        assert self._in is not None
        while not self._records:
            try:
                message = self._in.recv()
            except EOFError:
                raise RuntimeError("the first-tier process died") from None
            if message is None:
                raise RuntimeError("the first-tier process ended before the replay")
            if isinstance(message, str):
                raise RuntimeError(f"the first-tier process failed:\n{message}")
            self._records.extend(message)
        return self._records.popleft()
