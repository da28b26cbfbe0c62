"""The replay loop: the production :class:`~yujing.pipeline.Pipeline` on a virtual clock, fed in
arrival order, as fast as the CPU allows.

Cadence rules (what makes a replay deterministic and comparable with a live run):

- Batches: items are grouped by arrival time into slots of ``step_s`` on a fixed grid
  (``[k·step_s, (k+1)·step_s)``); each slot is processed as one batch at ``now`` = the slot's
  end. A live runtime processes a message within milliseconds of its arrival, so ``now`` is
  the arrival rounded up to the replay's resolution (default 1 s).
- Ticks: time-driven work (silence, window expiry, dwell step-downs, escalation deadlines) runs
  at every multiple of ``tick_s`` of virtual time, after the batches of earlier slots and
  before later ones, up to the source's end. A live runtime ticks every ``tick_s`` of its
  clock (``settings.tick_s``; at ×N speed that is ``N × tick_s`` of scenario time).
- Generation: the source is asked for ``chunk_s`` of arrival time at once (default: what the
  source suggests, about 50,000 messages); chunks are aligned to the slot grid, so chunking
  never changes a batch.

Neither the slot nor the chunk size changes what the detectors see in what order (a station's
readings arrive in their arrival order whatever the batching); they only set the ``now`` the
alert book works with, to ``step_s``. "Equal" between two runs is defined in ``docs/replay.md``.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from yujing.contracts import Reading
from yujing.heap import rare_collections
from yujing.pipeline import Pipeline, RawMessage, StepResult
from yujing.replay.recorder import RecordingGrader
from yujing.replay.sources import Item, ReplaySource

__all__ = ["Replay", "ReplayOptions", "ReplayStats"]

Progress = Callable[[float, int], None]
DEFAULT_CHUNK_S = 600.0


@dataclass(frozen=True, slots=True)
class ReplayOptions:
    step_s: float = 1.0
    tick_s: float = 1.0
    chunk_s: float | None = None  # None: the source's ``chunk_s``, else 600 s
    split: bool = False  # first tier in a forked child (yujing.replay.split): two cores

    def __post_init__(self) -> None:
        if (
            self.step_s <= 0
            or self.tick_s <= 0
            or (self.chunk_s is not None and self.chunk_s < self.step_s)
        ):
            raise ValueError(
                f"replay options need step_s > 0, tick_s > 0, chunk_s >= step_s; got {self}"
            )


@dataclass(slots=True)
class ReplayStats:
    readings: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    findings: int = 0
    notices: int = 0
    batches: int = 0
    ticks: int = 0
    wall_s: float = 0.0
    first: float = 0.0
    end: float = 0.0

    @property
    def readings_per_s(self) -> float:
        return self.readings / self.wall_s if self.wall_s > 0 else 0.0

    def to_json(self) -> dict[str, object]:
        return {
            "readings": self.readings,
            "rejected": dict(self.rejected),
            "findings": self.findings,
            "notices": self.notices,
            "batches": self.batches,
            "ticks": self.ticks,
            "wall_s": round(self.wall_s, 3),
            "readings_per_s": round(self.readings_per_s, 1),
            "virtual_s": round(self.end - self.first, 3),
        }


class Replay:
    """Feeds a source through ``pipeline`` (whose grader is ``grader``) on a virtual clock."""

    def __init__(
        self, pipeline: Pipeline, grader: RecordingGrader, options: ReplayOptions | None = None
    ) -> None:
        self.pipeline = pipeline
        self.grader = grader
        self.options = options or ReplayOptions()
        self.stats = ReplayStats()
        self._tick_k = 0  # the next tick is at _tick_k × tick_s (integer: no drift)

    def run(self, source: ReplaySource, progress: Progress | None = None) -> ReplayStats:
        began = time.perf_counter()
        stats = self.stats
        stats.first, stats.end = source.first, source.end
        self._tick_k = math.floor(source.first / self.options.tick_s) + 1
        chunks = self.chunks(source)
        with rare_collections():
            for index, (_, t1) in enumerate(chunks):
                self._feed(self._items(source, chunks, index), source.wire)
                self._ticks_until(t1, inclusive=True)
                if progress is not None:
                    progress(t1, stats.readings)
        stats.wall_s = time.perf_counter() - began
        return stats

    def chunks(self, source: ReplaySource) -> list[tuple[float, float]]:
        """The windows of arrival time the source is read in, aligned to the slot grid."""
        step = self.options.step_s
        wanted = self.options.chunk_s or float(getattr(source, "chunk_s", DEFAULT_CHUNK_S))
        chunk = max(step, math.floor(wanted / step) * step)
        end = math.ceil(source.end / step) * step
        out = []
        t0 = math.floor(source.first / step) * step
        while t0 < source.end:
            t1 = min(t0 + chunk, end)
            out.append((t0, t1))
            t0 = t1
        return out

    def _items(
        self, source: ReplaySource, chunks: list[tuple[float, float]], index: int
    ) -> list[Item]:
        """The items of ``chunks[index]``."""
        return source.items(*chunks[index])

    def _feed(self, items: list[Item], wire: bool) -> None:
        step = self.options.step_s
        i, count = 0, len(items)
        while i < count:
            slot = math.floor(items[i].received / step)
            j = i + 1
            while j < count and math.floor(items[j].received / step) == slot:
                j += 1
            now = (slot + 1) * step
            self._ticks_until(now, inclusive=False)
            self._count(self._batch(items[i:j], now, wire))
            self.stats.batches += 1
            i = j

    def _batch(self, batch: list[Item], now: float, wire: bool) -> StepResult:
        """One slot's items through the pipeline at ``now``."""
        if wire:
            return self.pipeline.process([m for m in batch if isinstance(m, RawMessage)], now)
        return self.pipeline.process_readings([r for r in batch if isinstance(r, Reading)], now)

    def _tick(self, at: float) -> StepResult:
        return self.pipeline.tick(at)

    def _ticks_until(self, until: float, *, inclusive: bool) -> None:
        tick = self.options.tick_s
        while True:
            at = self._tick_k * tick
            if at > until or (at == until and not inclusive):
                return
            self._count(self._tick(at))
            self.stats.ticks += 1
            self._tick_k += 1

    def _count(self, result: StepResult) -> None:
        stats = self.stats
        stats.readings += len(result.readings)
        stats.findings += len(result.findings)
        stats.notices += len(result.notices)
        for letter in result.rejected:
            stats.rejected[letter.reason.value] += 1
