"""Detector state that survives ``kill -9`` without a full snapshot per batch.

The embedded runtime appends everything it feeds the pipeline (each batch of raw messages with
its ``now``, each tick's ``now``) to an input log *before* it acknowledges the batch to the
broker, and writes a full checkpoint (:meth:`yujing.pipeline.Pipeline.snapshot`) only every
``recovery.checkpoint_s`` or when the log passes ``recovery.checkpoint_mb``. After a crash the
last checkpoint is restored and the log since then is fed again through the detectors only
(:meth:`~yujing.pipeline.Pipeline.recover`): the alert book is rebuilt from its own journal, so
nothing is graded or sent twice. The pipeline is a pure function of its inputs and ``now``, so
the detectors end where they were at the crash.

Appending a batch costs a buffered write (and an ``fsync`` when ``recovery.fsync``); a full
snapshot of a city costs seconds of CPU (docs/performance.md), which is why it is rare.

Log format: segments ``input-<n>.log`` of records ``kind:u8 now:f64 count:u32`` followed, for a
batch (kind ``B``), by ``count`` messages ``received:f64 topic_len:u16 payload_len:u32 topic
payload``; a tick (kind ``T``) has ``count`` 0. A torn record at the end (the crash came during
the write) is ignored: its batch was not acknowledged, so the broker delivers it again.
"""

from __future__ import annotations

import logging
import os
import re
import struct
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from yujing.pipeline import RawMessage

log = logging.getLogger(__name__)

_RECORD = struct.Struct("<cdI")
_MESSAGE = struct.Struct("<dHI")
_BATCH, _TICK = b"B", b"T"
_SEGMENT = re.compile(r"input-(\d+)\.log$")


@dataclass(frozen=True, slots=True)
class Entry:
    """One thing the pipeline was fed: a batch (``messages``) or a tick (``messages`` None)."""

    now: float
    messages: list[RawMessage] | None


class InputLog:
    """Append-only, segmented log of pipeline input since the last checkpoint."""

    def __init__(self, folder: Path, *, fsync: bool = True) -> None:
        self.folder = folder
        self.fsync = fsync
        folder.mkdir(parents=True, exist_ok=True)
        self.segment = max(self.segments(), default=-1) + 1
        self._file: IO[bytes] | None = None
        self.bytes = 0  # written to the current segment

    def segments(self) -> list[int]:
        """Segment numbers on disk, oldest first."""
        found = (_SEGMENT.search(p.name) for p in self.folder.glob("input-*.log"))
        return sorted(int(m.group(1)) for m in found if m)

    def path(self, segment: int) -> Path:
        return self.folder / f"input-{segment:08d}.log"

    def append_batch(self, messages: Sequence[RawMessage], now: float) -> None:
        parts = [_RECORD.pack(_BATCH, now, len(messages))]
        for m in messages:
            topic = m.topic.encode()
            parts += (_MESSAGE.pack(m.received, len(topic), len(m.payload)), topic, m.payload)
        self._write(b"".join(parts))

    def append_tick(self, now: float) -> None:
        self._write(_RECORD.pack(_TICK, now, 0))

    def _write(self, data: bytes) -> None:
        if self._file is None:
            self._file = self.path(self.segment).open("ab")
        self._file.write(data)
        self._file.flush()  # in the OS: survives a killed process
        if self.fsync:
            os.fsync(self._file.fileno())  # on disk: survives a power cut
        self.bytes += len(data)

    def rotate(self) -> int:
        """Close the current segment and start the next; returns the new segment's number."""
        self.close()
        self.segment += 1
        self.bytes = 0
        return self.segment

    def drop_before(self, segment: int) -> None:
        """Delete segments older than ``segment`` (a checkpoint covers them)."""
        for n in self.segments():
            if n < segment:
                self.path(n).unlink(missing_ok=True)

    def entries(self, since: int) -> Iterator[Entry]:
        """Every entry of segments ``>= since``, in the order it was written."""
        for n in self.segments():
            if n >= since:
                yield from _read_segment(self.path(n))

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


def _read_segment(path: Path) -> Iterator[Entry]:
    data = path.read_bytes()
    at = 0
    while at + _RECORD.size <= len(data):
        kind, now, count = _RECORD.unpack_from(data, at)
        at += _RECORD.size
        if kind == _TICK:
            yield Entry(now, None)
            continue
        if kind != _BATCH:
            log.error("input log corrupt; recovery stops here", extra={"path": str(path)})
            return
        messages: list[RawMessage] = []
        for _ in range(count):
            if at + _MESSAGE.size > len(data):
                break
            received, topic_len, payload_len = _MESSAGE.unpack_from(data, at)
            at += _MESSAGE.size
            end = at + topic_len + payload_len
            if end > len(data):
                break
            topic = data[at : at + topic_len].decode()
            messages.append(RawMessage(topic, data[at + topic_len : end], received))
            at = end
        if len(messages) < count:  # torn by the crash: never acknowledged, redelivered
            log.warning("input log ends in a torn batch", extra={"path": str(path)})
            return
        yield Entry(now, messages)
