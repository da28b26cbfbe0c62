"""Replay on two cores: the per-station detectors in forked children, the rest in this process.

A replay is one stream through one pipeline, and the second tier (area rainfall, neighbour
agreement, the seismic network, chains) couples stations, so it cannot be split by station. It
can be split by stage: the first tier (each station's own detectors) depends only on its
station's readings and the clock, the rest only on the readings and what the first tier found
in them.

:class:`SplitReplay` forks children (:data:`FIRST_TIER_PROCESSES`, each with a contiguous share
of the stations) that run the same cadence over the same source and stream back, per batch,
what the first tier of their stations found in each reading (by its position in the batch) and,
per tick, their stations' time-driven findings. This process runs the first tier of the last
:data:`OWN_SHARE` of the stations itself, the second tier and the alert book, and all work at
once. The output is the single-process replay's, finding for finding
(``tests/unit/replay/test_split.py``; ``python -m bench.outputs --split`` over the shipped
scenarios).

Who makes and admits the readings:

- From a scenario (direct path, :meth:`ScenarioSource.rows`), the first child generates each
  chunk's rows a chunk ahead and leaves them in a file for this process, which only makes the
  readings of them. Each process admits the readings of its own stations (ingest's checks are
  per station: :meth:`Pipeline.admit`), and a child sends the dead letters of its stations with
  its findings. When both processes made and admitted every reading, that was about a third
  of what each did in a city day (py-spy).
- Otherwise (the wire path, recordings) every process reads and decodes every item itself:
  decoding is what tells whose a message is.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import tempfile
import traceback
from collections import deque
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from ingest import DeadLetter
from simulators.rows import Rows
from yujing.contracts import Finding, Reading
from yujing.pipeline import Pipeline, StepResult
from yujing.replay.driver import Progress, Replay, ReplayOptions, ReplayStats
from yujing.replay.recorder import RecordingGrader
from yujing.replay.sources import Item, ReplaySource, ScenarioSource

__all__ = ["FIRST_TIER_PROCESSES", "SplitReplay"]

FIRST_TIER_PROCESSES = 1
"""Children sharing the first tier by station. One on two cores: with one child this process
waited for it a third of the time, with two it no longer waited but the three processes shared
two cores and a 4 h slice of the city storm took as long (9.1 vs 9.2 s); more children pay off
only with more cores."""

OWN_SHARE = 0.1
"""Share of the stations (the last in registry order) whose first tier runs in this process.
The 24 h city storm, split, with the child generating and admitting (above), twice each:
30.6 / 30.9 s with 5 % here, 30.4 / 32.0 s with 10 % (this process waiting 1.8 s for the child
instead of 3.6), 31.4 / 31.8 s with none, 33.2 s with 15 %."""

RECORDS_PER_SEND = 32
"""Records (one per batch or tick) per message on the pipe: fewer, larger pickles."""

_SPOOL_DIR = "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None
"""Where a child leaves the rows it generated (memory, where there is such a file system)."""

Found = list[tuple[int, list[Finding]]]  # (position in the batch, findings) of readings with any
Refused = list[tuple[int, DeadLetter]]  # (position in the batch, dead letter)
BatchRecord = tuple[Refused, Found]
TickRecord = list[Finding]


def ships_rows(source: ReplaySource) -> bool:
    """Can a child generate the source's items for this process (as rows)?"""
    return isinstance(source, ScenarioSource) and not source.wire


class _FirstTier(Replay):
    """A child's loop: :class:`Replay`'s cadence over the same items, the first tier of its
    own ``stations`` only. ``direct``: it admits its stations' readings itself and sends the
    dead letters; with a ``spool`` directory it also sends each chunk's rows, a chunk ahead."""

    def __init__(
        self,
        pipeline: Pipeline,
        grader: RecordingGrader,
        options: ReplayOptions,
        stations: list[str],
        out: Connection,
        *,
        direct: bool,
        spool: Path | None = None,
    ) -> None:
        super().__init__(pipeline, grader, options)
        self._stations = stations
        self._mine = frozenset(stations)
        self._out = out
        self._direct = direct
        self._ship = spool is not None
        self._spool = spool
        self._sent = 0
        self._ahead: list[Item] = []  # the next chunk's items, its rows sent
        self._pending: list[BatchRecord | TickRecord] = []

    def _items(
        self, source: ReplaySource, chunks: list[tuple[float, float]], index: int
    ) -> list[Item]:
        if not self._ship:
            return super()._items(source, chunks, index)
        assert isinstance(source, ScenarioSource)
        items = self._generate(source, *chunks[0]) if index == 0 else self._ahead
        if index + 1 < len(chunks):  # the next chunk's rows go out before this one is worked
            self._ahead = self._generate(source, *chunks[index + 1])
        return items

    def _generate(self, source: ScenarioSource, t0: float, t1: float) -> list[Item]:
        rows = source.rows(t0, t1)
        self._send_rows(rows)
        return source.items_of(rows)

    def _send_rows(self, rows: Rows) -> None:
        """Rows go through a file, their path through the pipe: the parent reads a chunk's
        rows only when it starts the chunk, and a send through the pipe would hold this process
        until then (a pause a chunk long, every chunk, that it could have worked ahead)."""
        assert self._spool is not None
        path = self._spool / f"rows-{self._sent}.pickle"
        self._sent += 1
        with path.open("wb") as file:
            pickle.dump(rows, file, protocol=pickle.HIGHEST_PROTOCOL)
        self.flush()  # the records before it, then its path
        self._out.send(_RowsAt(str(path)))

    def _batch(self, batch: list[Item], now: float, wire: bool) -> StepResult:
        pipeline, mine = self.pipeline, self._mine
        refused: Refused = []
        found: Found = []
        scratch = StepResult()  # this process's dead letters: the parent makes its own
        if self._direct:  # the parent admits nothing of ours: admit and say what was refused
            for position, reading in enumerate(batch):
                assert isinstance(reading, Reading)
                if reading.station in mine:
                    if not pipeline.admit(reading, now, scratch):
                        refused.append((position, scratch.rejected.pop()))
                        continue
                    first = pipeline.first_tier(reading)
                    if first:
                        found.append((position, first))
        else:
            for position, reading in pipeline.admitted_at(batch, now, scratch, wire=wire):
                if reading.station in mine:
                    first = pipeline.first_tier(reading)
                    if first:
                        found.append((position, first))
        self._send((refused, found))
        return StepResult()

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


@dataclass(frozen=True, slots=True)
class _RowsAt:
    """Where a chunk's rows were written (a file the reader removes)."""

    path: str


class _Records:
    """One child's stream: records (lists of them), and rows, read as needed."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self._records: deque[Any] = deque()
        self._rows: deque[str] = deque()

    def next(self) -> Any:
        while not self._records:
            self._receive()
        return self._records.popleft()

    def rows(self) -> Rows:
        while not self._rows:
            self._receive()
        path = Path(self._rows.popleft())
        with path.open("rb") as file:
            rows = pickle.load(file)
        path.unlink()
        assert isinstance(rows, Rows)
        return rows

    def _receive(self) -> None:
        try:
            message = self.connection.recv()
        except EOFError:
            raise RuntimeError("a first-tier process died") from None
        if message is None:
            raise RuntimeError("a first-tier process ended before the replay")
        if isinstance(message, str):
            raise RuntimeError(f"a first-tier process failed:\n{message}")
        if isinstance(message, _RowsAt):
            self._rows.append(message.path)
        else:
            self._records.extend(message)


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
        self._direct = False
        stations = list(pipeline.detectors)
        keep = min(len(stations) - 1, round(own_share * len(stations))) if stations else 0
        self._theirs = stations[: len(stations) - max(0, keep)]
        self._own = stations[len(self._theirs) :]  # the last ones: tick findings stay in order
        self._mine = frozenset(self._own)

    def run(self, source: ReplaySource, progress: Progress | None = None) -> ReplayStats:
        context = multiprocessing.get_context("fork")  # children inherit pipeline and source
        started = []
        self._children = []
        self._direct = direct = ships_rows(source)
        with tempfile.TemporaryDirectory(prefix="yujing-split-", dir=_SPOOL_DIR) as spool:
            for k, stations in enumerate(_slices(self._theirs, self.processes)):
                receive, send = context.Pipe(duplex=False)
                first = _FirstTier(
                    self.pipeline, self.grader, self.options, stations, send,
                    direct=direct, spool=Path(spool) if direct and k == 0 else None,
                )  # fmt: skip
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

    def _items(
        self, source: ReplaySource, chunks: list[tuple[float, float]], index: int
    ) -> list[Item]:
        if not self._direct:
            return super()._items(source, chunks, index)
        assert isinstance(source, ScenarioSource)
        return source.items_of(self._children[0].rows())

    def _batch(self, batch: list[Item], now: float, wire: bool) -> StepResult:
        pipeline, mine = self.pipeline, self._mine
        refused: dict[int, DeadLetter] = {}
        found: dict[int, list[Finding]] = {}
        for child in self._children:
            theirs, first = child.next()
            refused.update(theirs)
            found.update(first)
        out = StepResult()
        if self._direct:  # each reading admitted where its first tier runs
            for position, reading in enumerate(batch):
                assert isinstance(reading, Reading)
                if reading.station in mine:
                    if not pipeline.admit(reading, now, out):
                        continue
                    first = pipeline.first_tier(reading)
                elif position in refused:
                    out.rejected.append(refused[position])
                    continue
                else:
                    first = found.get(position) or []
                pipeline.second_tier(reading, first, out)
        else:
            for position, reading in pipeline.admitted_at(batch, now, out, wire=wire):
                if reading.station in mine:
                    first = pipeline.first_tier(reading)
                else:
                    first = found.get(position) or []
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
