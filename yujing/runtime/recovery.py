"""Detector state that survives ``kill -9`` without a full snapshot per batch.

The embedded runtime appends everything it feeds the pipeline (each batch of raw messages with
its ``now``, each tick's ``now``) to an input log *before* it acknowledges the batch to the
broker, and writes a full checkpoint (:meth:`yujing.pipeline.Pipeline.snapshot`) only every
``recovery.checkpoint_s`` or when the log passes ``recovery.checkpoint_mb``. After a crash the
last checkpoint is restored and the log since then is fed again through the detectors only
(:meth:`~yujing.pipeline.Pipeline.recover`): the alert book is rebuilt from its own journal, so
nothing is graded or sent twice. The pipeline is a pure function of its inputs and ``now``, so
the detectors end where they were at the crash.

Appending a batch costs a buffered write; the ``fsync`` (when ``recovery.fsync``; ~4 ms on the
project's machine) is done by :class:`SyncedAcks` on a thread of its own, which then
acknowledges every batch that fsync covered (a group commit): the loop goes on with the next
batch meanwhile, and the broker still forgets nothing that is not on disk. A full snapshot of a
city costs a second of CPU (docs/performance.md), which is why it is rare, and why
:class:`Checkpoints` takes it in a forked child (copy-on-write: the child sees the state as of
the fork while the loop goes on) instead of stalling the loop.

Log format: segments ``input-<n>.log`` of records ``kind:u8 now:f64 count:u32`` followed, for a
batch (kind ``B``), by ``count`` messages ``received:f64 topic_len:u16 payload_len:u32 topic
payload``; a tick (kind ``T``) has ``count`` 0. A torn record at the end (the crash came during
the write) is ignored: its batch was not acknowledged, so the broker delivers it again.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import re
import struct
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from yujing.files import atomic_write_bytes
from yujing.pipeline import RawMessage, WireMessage

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

    def __init__(self, folder: Path, *, fsync: bool = True, defer_sync: bool = False) -> None:
        self.folder = folder
        self.fsync = fsync
        self.defer_sync = defer_sync  # fsync only in sync() (SyncedAcks), not per append
        self._lock = threading.Lock()  # the open file, against sync() from another thread
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

    def append_batch(self, messages: Sequence[WireMessage], now: float) -> None:
        parts = [_RECORD.pack(_BATCH, now, len(messages))]
        for m in messages:
            topic = m.topic.encode()
            parts += (_MESSAGE.pack(m.received, len(topic), len(m.payload)), topic, m.payload)
        self._write(b"".join(parts))

    def append_tick(self, now: float) -> None:
        self._write(_RECORD.pack(_TICK, now, 0))

    def _write(self, data: bytes) -> None:
        if self._file is None:
            with self._lock:
                self._file = self.path(self.segment).open("ab")
        self._file.write(data)
        self._file.flush()  # in the OS: survives a killed process
        if self.fsync and not self.defer_sync:
            os.fsync(self._file.fileno())  # on disk: survives a power cut
        self.bytes += len(data)

    def sync(self) -> None:
        """Everything appended so far on disk (callable from any thread)."""
        with self._lock:
            if self._file is not None and self.fsync:
                os.fsync(self._file.fileno())

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
        with self._lock:
            if self._file is not None:
                if self.fsync and self.defer_sync:
                    os.fsync(self._file.fileno())  # a rotated segment is complete on disk
                self._file.close()
                self._file = None


class SyncedAcks:
    """Acknowledges batches to the broker once the input log holding them is on disk.

    The loop appends a batch and submits its messages; this thread fsyncs whatever has been
    appended since its last fsync, then acks all the batches that fsync covered. On the loop,
    an fsync per batch stalled every batch by its full cost; here one fsync serves every batch
    that arrived while the previous one ran. A crash before the ack means redelivery,
    which the restored detectors and ingest's history count as duplicates. A failed fsync acks
    nothing (the broker keeps those messages) and is retried with the next batch.
    """

    def __init__(self, log: InputLog, ack: Callable[[Sequence[Any]], object]) -> None:
        self.log = log
        self.ack = ack
        self._queue: queue.SimpleQueue[Sequence[Any] | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="input-log-sync", daemon=True)
        self._waiting: list[Sequence[Any]] = []  # batches whose fsync failed, retried

    def start(self) -> None:
        self._thread.start()

    def submit(self, messages: Sequence[Any]) -> None:
        """Ack ``messages`` once what the log holds now is on disk."""
        self._queue.put(messages)

    def close(self) -> None:
        """Sync and ack everything submitted, then stop the thread."""
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join()

    def _run(self) -> None:
        stopping = False
        while not stopping:
            batch = self._queue.get()
            batches = self._waiting
            while True:
                if batch is None:
                    stopping = True
                else:
                    batches.append(batch)
                try:
                    batch = self._queue.get_nowait()
                except queue.Empty:
                    break
            try:
                self.log.sync()
            except OSError:
                log.exception("input log fsync failed; the batches stay unacknowledged")
                self._waiting = batches
                continue
            self._waiting = []
            for done in batches:
                self.ack(done)


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


class Checkpoints:
    """Full snapshots that cover the input log up to a segment, written off the loop.

    :meth:`begin` rotates the log and forks: the child encodes the snapshot as of that instant,
    writes it atomically and exits; :meth:`reap` (called from the loop) drops the log segments
    the new checkpoint covers once the child succeeded. A child whose parent died meanwhile
    does not replace the file (a restarted runtime may have written a newer one). Without
    ``os.fork`` (or with ``fork`` off) :meth:`begin` writes in process.
    """

    def __init__(
        self,
        path: Path,
        log: InputLog,
        state: Callable[[], dict[str, Any]],
        *,
        fork: bool = True,
    ) -> None:
        self.path = path
        self.log = log
        self.state = state  # the document to write: fingerprint, pipeline snapshot
        self.fork = fork and hasattr(os, "fork")
        self._child: tuple[int, int] | None = None  # (pid, segment it covers from)

    @property
    def running(self) -> bool:
        return self._child is not None

    def begin(self) -> bool:
        """Start a checkpoint; False when one is still being written."""
        if self._child is not None:
            self.reap()
            if self._child is not None:
                return False
        segment = self.log.rotate()
        if not self.fork:
            self._write(segment, None)
            self.log.drop_before(segment)
            return True
        parent = os.getpid()
        pid = os.fork()
        if pid == 0:  # the child: never returns, never runs the parent's cleanup
            code = 1
            try:
                code = 0 if self._write(segment, parent) else 2
            finally:
                os._exit(code)
        self._child = (pid, segment)
        return True

    def write_now(self) -> None:
        """Checkpoint in process (start-up, shut-down), after any child has finished."""
        self.wait()
        segment = self.log.rotate()
        self._write(segment, None)
        self.log.drop_before(segment)

    def reap(self, *, block: bool = False) -> None:
        if self._child is None:
            return
        pid, segment = self._child
        done, status = os.waitpid(pid, 0 if block else os.WNOHANG)
        if done == 0:
            return
        self._child = None
        code = os.waitstatus_to_exitcode(status)
        if code == 0:
            self.log.drop_before(segment)
        else:  # the previous checkpoint and the log since it still stand
            log.error("checkpoint child failed", extra={"exit_code": code})

    def wait(self) -> None:
        self.reap(block=True)

    def _write(self, segment: int, parent: int | None) -> bool:
        document = {**self.state(), "segment": segment}
        data = json.dumps(document, separators=(",", ":")).encode()
        alive = None if parent is None else (lambda: os.getppid() == parent)
        return atomic_write_bytes(self.path, data, commit=alive)
