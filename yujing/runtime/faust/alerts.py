"""The alerting tier of the scale-out runtime, without Faust: one alert book per partition of the
findings topic, its state as rows in a table.

Each partition owns an :class:`~alerting.AlertPipeline` built from the same
:class:`~alerting.PipelineConfig` as the embedded runtime's (book, groups, inhibition, drill,
roster routing, escalation). Findings are keyed by district (:mod:`.records`), so a partition
holds whole districts and the pipeline's district groups and inhibition see every alert they need.

The table holds, per partition ``p``:

- ``"{p}/meta"``: ``{"format", "token", "now", "offset", "seen": {source: n}}`` — the
  partition's runtime time (it never goes back), the last offset applied (replays at or below it
  are skipped) and the highest batch number applied per source (the idempotency key of
  findings batches, for sources that replay);
- ``"{p}/{part}/{id}"``: ``{"part", "id", "data"}`` for each state row of the pipeline — the
  rows the embedded runtime journals in SQLite; a deleted row is deleted from the table.

Officers' commands (acknowledge, feedback, silences; :class:`~.records.Command`) arrive on the
same topic, in order with the findings, and are applied to the partition's book like the embedded
runtime's service applies them; the step says what the book answered, for the API that asked.

Rows changed since the last checkpoint are kept and written at :meth:`AlertStage.checkpoint`
(:mod:`.state`): the step's deliveries are in Kafka by then, so a crash replays records whose
deliveries go out again with the same ``(alert key, version, officer, channel)``, the embedded
runtime's outbox key, on which the notifier and the receivers dedupe.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from alerting import AlertPipeline, PipelineConfig, Step
from yujing.api.desk import Answer
from yujing.contracts import Alert, AlertKey
from yujing.runtime.faust.records import Command, FindingBatch, Op
from yujing.runtime.faust.state import StateTable

__all__ = ["META_FORMAT", "AlertStage", "AlertStep"]

META_FORMAT = 1
Row = tuple[str, str, Any]


@dataclass(slots=True)
class _Partition:
    pipeline: AlertPipeline
    now: float | None = None
    offset: int = -1
    seen: dict[str, int] = field(default_factory=dict)
    token: str = ""
    rows: dict[tuple[str, str], Any] = field(default_factory=dict)  # changed since checkpoint
    dirty: bool = False


@dataclass(slots=True)
class AlertStep:
    """What one record produced: the pipeline's step and the time it ran at; for a command, the
    command and the book's answer."""

    partition: int
    now: float
    step: Step = field(default_factory=Step)
    replayed: bool = False  # the state already holds this record, or its batch: skipped
    command: Command | None = None
    answer: Answer | None = None


class AlertStage:
    """Alert books of the partitions a worker owns (see the module docstring)."""

    def __init__(self, config: PipelineConfig, *, writer: str | None = None) -> None:
        self.config = config
        self._writer = writer or uuid.uuid4().hex[:12]
        self._counter = itertools.count(1)
        self._parts: dict[int, _Partition] = {}

    def pipeline(self, table: StateTable, partition: int) -> AlertPipeline:
        """The partition's pipeline (rebuilt from the table when the cache is stale)."""
        return self._part(table, partition).pipeline

    # ---- records ----------------------------------------------------------------------------

    def findings(
        self, table: StateTable, partition: int, offset: int, batch: FindingBatch
    ) -> AlertStep:
        """Grade one batch: the findings one record made for one district, in one call."""
        part = self._part(table, partition)
        now = batch.now if part.now is None else max(part.now, batch.now)
        out = AlertStep(partition, now)
        if offset <= part.offset or batch.n <= part.seen.get(batch.source, 0):
            out.replayed = True
            return out
        part.offset, part.now, part.dirty = offset, now, True
        part.seen[batch.source] = batch.n
        out.step = part.pipeline.apply(batch.findings, now)
        self._collect(part)
        return out

    def tick(self, table: StateTable, partition: int, offset: int, now: float) -> AlertStep:
        """Time-driven work: dwells, flapping, silences, acknowledgement deadlines."""
        part = self._part(table, partition)
        now = now if part.now is None else max(part.now, now)
        out = AlertStep(partition, now)
        if offset <= part.offset:
            out.replayed = True
            return out
        part.offset, part.now, part.dirty = offset, now, True
        out.step = part.pipeline.advance(now)
        self._collect(part)
        return out

    def command(
        self, table: StateTable, partition: int, offset: int, command: Command
    ) -> AlertStep:
        """Apply an officer's command to the partition's book (at the command's time, which
        never takes the partition's time back)."""
        part = self._part(table, partition)
        now = command.now if part.now is None else max(part.now, command.now)
        out = AlertStep(partition, now, command=command)
        if offset <= part.offset:
            out.replayed = True
            return out
        part.offset, part.now, part.dirty = offset, now, True
        pipeline, officer = part.pipeline, command.officer
        if command.op is Op.ACK:
            key = AlertKey.parse(command.key)
            result = pipeline.acknowledge(key, command.is_drill, officer, now)
            out.step, out.answer = result.step, Answer(result.status, result.version)
        elif command.op is Op.FEEDBACK:
            key = AlertKey.parse(command.key)
            out.step = pipeline.feedback(
                key, command.is_drill, officer, command.status, command.text, now
            )
            out.answer = Answer("recorded")
        elif command.op is Op.SILENCE:
            if command.silence is None:
                raise ValueError("a silence command without its silence")
            out.step, out.answer = pipeline.add_silence(command.silence, now), Answer("added")
        else:
            step = pipeline.expire_silence(command.silence_id, officer, now)
            if step is None:
                out.answer = Answer("unknown")
            else:
                ended = pipeline.silences.get(command.silence_id)
                out.step, out.answer = step, Answer("expired", silence=ended)
        self._collect(part)
        return out

    def checkpoint(self, table: StateTable, owns: Callable[[int], bool] = lambda p: True) -> int:
        """Write every partition's changed rows and meta; returns how many partitions. A
        partition that moved away meanwhile (``owns`` says no) is dropped, never written."""
        written = 0
        for partition, part in sorted(self._parts.items()):
            if not part.dirty:
                continue
            if not owns(partition):
                del self._parts[partition]
                continue
            prefix = f"{partition}/"
            for (name, ident), data in sorted(part.rows.items()):
                key = f"{prefix}{name}/{ident}"
                if data is None:
                    table.delete(partition, key)
                else:
                    table.put(partition, key, {"part": name, "id": ident, "data": data})
            token = f"{self._writer}:{next(self._counter)}"
            table.put(
                partition,
                f"{prefix}meta",
                {
                    "format": META_FORMAT,
                    "token": token,
                    "now": part.now,
                    "offset": part.offset,
                    "seen": dict(part.seen),
                },
            )
            part.token, part.rows, part.dirty = token, {}, False
            written += 1
        return written

    def forget(self, partition: int | None = None) -> None:
        """Drop the live pipelines (of one partition, or all) and their unwritten changes."""
        if partition is None:
            self._parts.clear()
        else:
            self._parts.pop(partition, None)

    def alerts(self) -> list[Alert]:
        """Active alerts of the partitions this process holds."""
        return [alert for part in self._parts.values() for alert in part.pipeline.book.alerts()]

    def held(self) -> dict[int, AlertPipeline]:
        """The live alert books of this process, by partition (for the API's reads)."""
        return {partition: part.pipeline for partition, part in sorted(self._parts.items())}

    # ---- state ------------------------------------------------------------------------------

    @staticmethod
    def _collect(part: _Partition) -> None:
        for name, ident, data in part.pipeline.changes():
            part.rows[(name, ident)] = data

    def _part(self, table: StateTable, partition: int) -> _Partition:
        part = self._parts.get(partition)
        if part is not None and part.dirty:
            return part  # ahead of the table until the checkpoint
        meta = table.get(f"{partition}/meta")
        token = "" if meta is None else str(meta.get("token", ""))
        if part is not None and part.token == token:
            return part
        part = _Partition(AlertPipeline(self.config))
        if meta is not None:
            if meta.get("format") != META_FORMAT:
                raise ValueError(f"alerting partition meta format {meta.get('format')!r} is not 1")
            prefix, meta_key = f"{partition}/", f"{partition}/meta"
            rows = sorted(
                (value["part"], value["id"], value["data"])
                for key, value in table.items()
                if key.startswith(prefix) and key != meta_key
            )
            part.pipeline.load(rows)
            part.now = None if meta.get("now") is None else float(meta["now"])
            part.offset = int(meta.get("offset", -1))
            part.seen = {str(k): int(v) for k, v in meta.get("seen", {}).items()}
            part.token = token
        self._parts[partition] = part
        return part
