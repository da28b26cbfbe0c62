"""The time-series writer: observes every StepResult, writes it to InfluxDB in the background.

Off the alert path by construction (DESIGN §7). :meth:`StorageWriter.submit` only puts references
into a bounded :class:`~yujing.storage.queue.PointQueue` and returns; a daemon thread encodes
(:mod:`yujing.storage.schema`), batches and writes through influxdb-client's synchronous write
API. When the database is slow or down the thread retries the same batch with capped exponential
backoff (jitter), the queue fills, and beyond ``storage.queue_max_points`` the oldest bulk points
are dropped and counted; detection and alerting never wait. When the database answers again the
backlog goes out back to back, batch after batch. A 400/413/422 answer means the batch itself is
refused: it is dropped (counted ``rejected``), never retried.

Delivery is at least once: a batch whose answer was lost is written again, which InfluxDB (and
VictoriaMetrics with deduplication) absorbs, since a point is identified by its series and time.

Every ``storage.station_every_s`` the writer also writes each station's position, grade and
completeness (``station``) and its ladder lines (``threshold``) for the boards. Readings of
quantities the quality gate distrusts carry a ``suspect`` tag (:mod:`yujing.storage.suspects`).
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from typing import cast

import urllib3.exceptions
from influxdb_client.client.influxdb_client import InfluxDBClient
from influxdb_client.client.write_api import SYNCHRONOUS
from influxdb_client.domain.write_precision import WritePrecision
from influxdb_client.rest import ApiException

from yujing.config.ladders import LadderBook
from yujing.config.stations import Registry
from yujing.config.storage import StorageSettings
from yujing.contracts import Finding, Notice, NoticeReason, Reading
from yujing.metrics import Metrics
from yujing.pipeline import StepResult
from yujing.storage.board import StationBoard
from yujing.storage.queue import Chunk, PointQueue
from yujing.storage.schema import (
    finding_line,
    notice_line,
    reading_line,
    station_line,
    threshold_lines,
)
from yujing.storage.suspects import SuspectMarks

__all__ = ["StorageWriter"]

log = logging.getLogger(__name__)

_REFUSED = frozenset({400, 413, 422})  # the batch itself is wrong: retrying cannot help
_MS = cast(WritePrecision, WritePrecision.MS)  # the client types its constants as str


def _same(line: str) -> str:
    return line


def _reading(item: Reading) -> str | None:
    return reading_line(item)


class _Refused(Exception):
    """The database refused the batch (4xx that a retry cannot fix)."""


class StorageWriter:
    """Bounded, batched, retrying writer on a thread of its own. ``start`` → ``submit``… →
    ``close``. ``clock`` gives the wall time of the station and threshold points."""

    def __init__(
        self,
        settings: StorageSettings,
        metrics: Metrics,
        *,
        registry: Registry | None = None,
        ladders: LadderBook | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.metrics = metrics
        self.registry = registry
        self.ladders = ladders
        self._clock = clock
        self.board = StationBoard(registry)
        self.suspects = SuspectMarks()
        self.queue = PointQueue(settings.queue_max_points, wake_at=settings.batch_size)
        self._intervals = {s.id: s.interval_s for s in registry} if registry is not None else {}
        self._positions = {s.id: (s.lat, s.lon) for s in registry} if registry is not None else {}
        self._stop = threading.Event()
        self._deadline = float("inf")  # monotonic time by which close() gives up
        self._thread = threading.Thread(target=self._run, name="yujing-storage", daemon=True)
        self._in_flight = 0
        self._client = InfluxDBClient(
            url=settings.url,
            token=settings.token(),
            org=settings.org,
            timeout=int(settings.timeout_s * 1000),
        )
        self._write_api = self._client.write_api(write_options=SYNCHRONOUS)
        metrics.storage_queue_limit.set(settings.queue_max_points)
        metrics.storage_up.set(0)
        self._depth = metrics.queue_depth.labels("storage")
        self.written = 0  # points accepted by the database (also in the metric)
        self._up: bool | None = None  # last write succeeded? None before the first

    # ---- the runtime's side: never blocks ---------------------------------------------------

    def start(self) -> StorageWriter:
        self._thread.start()
        return self

    def submit(self, result: StepResult) -> None:
        """Queue what one batch or tick produced. Returns at once, whatever the database does."""
        self.suspects.observe(result.findings)  # first: this batch's readings get its verdicts
        if result.readings:
            self.board.observe_readings(result.readings)
            lazy: list[Reading] = []
            lines: list[str] = []  # encoded now: waveforms (large) and suspect readings (rare)
            for reading in result.readings:
                suspect = self.suspects.of(reading) if self.suspects else None
                if reading.waveform is None and suspect is None:
                    lazy.append(reading)
                elif (line := reading_line(reading, suspect)) is not None:
                    lines.append(line)
            if lazy:
                self._put(Chunk("reading", lazy, _reading))
            if lines:
                self._put(Chunk("reading", lines, _same))
        if result.findings:
            self._put(Chunk("derived", tuple(result.findings), self._finding))
        if result.notices:
            self.submit_notices(result.notices)

    def observe_findings(self, findings: Sequence[Finding]) -> None:
        """Follow sensor findings for the ``suspect`` tag without writing them (a runtime whose
        findings are written elsewhere: the Faust detect agent)."""
        self.suspects.observe(findings)

    def submit_notices(
        self, notices: Sequence[Notice], *, officer: str = "", ack_s: float | None = None
    ) -> None:
        """Queue alert transitions that did not come in a StepResult: an officer's command
        (acknowledgement, silence) with the ``officer`` and, for an acknowledgement, the time
        since the page as the alerting stage measured it (``ack_s``; else the board's)."""
        lines: list[str] = []
        touched: set[str] = set()
        for notice in notices:
            seen_s, stations = self.board.observe_notice(notice)
            if notice.reason is NoticeReason.ACKNOWLEDGED and ack_s is not None:
                seen_s = ack_s
            lines.append(notice_line(notice, seen_s, officer))
            touched.update(stations)
        self._put(Chunk("alert", lines, _same), priority=True)
        if touched and self.registry is not None:
            self._put(self._station_chunk(sorted(touched), elapsed_s=0.0), priority=True)

    def _finding(self, finding: Finding) -> str | None:
        position = self._positions.get(finding.station) if finding.station else None
        return finding_line(finding, position)

    def _put(self, chunk: Chunk, *, priority: bool = False) -> None:
        if self._stop.is_set():
            self.metrics.storage_dropped.labels("shutdown").inc(len(chunk))
            return
        dropped = self.queue.put(chunk, priority=priority)
        if dropped:
            self.metrics.storage_dropped.labels("queue_full").inc(dropped)
        self._depth.set(len(self.queue) + self._in_flight)

    def close(self, drain_s: float = 5.0) -> None:
        """Write what is queued for up to ``drain_s`` seconds, then stop; the rest is counted
        as dropped (``shutdown``)."""
        self._deadline = time.monotonic() + drain_s
        self._stop.set()
        self.queue.close()
        if self._thread.is_alive():
            self._thread.join(drain_s + self.settings.timeout_s + 1.0)
        left = self.queue.drain() + self._in_flight
        self._in_flight = 0
        if left:
            self.metrics.storage_dropped.labels("shutdown").inc(left)
            log.warning("storage writer stopped with points unwritten", extra={"points": left})
        self._depth.set(0)
        self._client.close()  # type: ignore[no-untyped-call]

    # ---- the writer's thread ----------------------------------------------------------------

    def _station_chunk(self, stations: Sequence[str], elapsed_s: float) -> Chunk:
        assert self.registry is not None
        now = self._clock()
        states = self.board.states(stations, elapsed_s=elapsed_s, intervals=self._intervals)
        lines = [station_line(self.registry.stations[s], states[s], now) for s in stations]
        return Chunk("station", lines, _same)

    def _heartbeat(self, elapsed_s: float) -> None:
        registry = self.registry
        if registry is None:
            return
        self._put(self._station_chunk([s.id for s in registry], elapsed_s), priority=True)
        if self.ladders is not None:
            now = self._clock()
            lines: list[str] = []
            for station in registry:
                lines.extend(threshold_lines(station, self.ladders.for_station(station), now))
            self._put(Chunk("threshold", lines, _same))

    def _run(self) -> None:
        settings = self.settings
        backoff = settings.retry_base_s
        batch: tuple[list[str], Counter[str]] | None = None
        last_beat: float | None = None  # monotonic time of the last heartbeat
        while True:
            try:
                now = time.monotonic()
                if last_beat is None or now - last_beat >= settings.station_every_s:
                    self._heartbeat(0.0 if last_beat is None else now - last_beat)
                    last_beat = now
                if batch is None:
                    if self._stop.is_set() and (len(self.queue) == 0 or now >= self._deadline):
                        break
                    batch = self._next_batch()
                    if batch is None:
                        continue
                try:
                    self._send(batch)
                except _Refused:
                    self.metrics.storage_dropped.labels("rejected").inc(len(batch[0]))
                except Exception:  # retryable: keep the batch, wait, try again
                    if self._wait(backoff):
                        break
                    backoff = min(settings.retry_max_s, backoff * 2.0)
                    continue
                batch = None
                self._in_flight = 0
                backoff = settings.retry_base_s
                self._depth.set(len(self.queue))
            except Exception:  # a bug here must not end the writer (nor touch the alert path)
                log.exception("storage writer error; batch dropped")
                if batch is not None:
                    self.metrics.storage_dropped.labels("invalid").inc(len(batch[0]))
                batch = None
                self._in_flight = 0
                if self._stop.wait(settings.retry_base_s):
                    break

    def _next_batch(self) -> tuple[list[str], Counter[str]] | None:
        chunks = self.queue.take(self.settings.batch_size, self.settings.flush_interval_s)
        if not chunks:
            return None
        lines: list[str] = []
        counts: Counter[str] = Counter()
        for chunk in chunks:
            before = len(lines)
            try:
                lines.extend(line for line in map(chunk.encode, chunk.items) if line is not None)
            except Exception:  # one unencodable item: drop its chunk, keep the writer going
                log.exception("storage: cannot encode points", extra={"points": len(chunk)})
                del lines[before:]
                self.metrics.storage_dropped.labels("invalid").inc(len(chunk))
                continue
            counts[chunk.measurement] += len(lines) - before
        self._in_flight = len(lines)
        self._depth.set(len(self.queue) + len(lines))
        return (lines, counts) if lines else None

    def _wait(self, backoff_s: float) -> bool:
        """Sleep with jitter until the next attempt; True when closing and out of time."""
        delay = backoff_s * (0.5 + random.random() / 2.0)  # noqa: S311 - jitter, not crypto
        if self._stop.is_set():
            delay = min(delay, max(0.0, self._deadline - time.monotonic()))
        self._stop.wait(delay)
        return self._stop.is_set() and time.monotonic() >= self._deadline

    def _send(self, batch: tuple[list[str], Counter[str]]) -> None:
        lines, counts = batch
        metrics = self.metrics
        started = time.perf_counter()
        try:
            self._write_api.write(
                bucket=self.settings.bucket,
                org=self.settings.org,
                record="\n".join(lines),
                write_precision=_MS,
            )
        except Exception as exc:
            metrics.storage_write_seconds.observe(time.perf_counter() - started)
            error, refused = _classify(exc)
            metrics.storage_errors.labels(error).inc()
            self._went_down(error, exc)
            if refused:
                raise _Refused(error) from exc
            raise
        metrics.storage_write_seconds.observe(time.perf_counter() - started)
        for measurement, n in counts.items():
            metrics.storage_written.labels(measurement).inc(n)
        self.written += len(lines)
        metrics.storage_last_success.set(time.time())
        if self._up is not True:
            log.info("storage writes succeed", extra={"queued": len(self.queue)})
        self._up = True
        metrics.storage_up.set(1)

    def _went_down(self, error: str, exc: BaseException) -> None:
        if self._up is not False:  # log the change, not every retry
            log.warning(
                "storage write failed; retrying with backoff",
                extra={"error": error, "detail": str(exc)[:300], "queued": len(self.queue)},
            )
        self._up = False
        self.metrics.storage_up.set(0)


def _classify(exc: BaseException) -> tuple[str, bool]:
    """(metric label, refused?) for a failed write."""
    if isinstance(exc, ApiException):
        status = int(exc.status or 0)
        return f"http_{status}", status in _REFUSED
    if isinstance(exc, urllib3.exceptions.NewConnectionError | ConnectionError):
        return "connection", False
    if isinstance(exc, urllib3.exceptions.TimeoutError | TimeoutError):
        return "timeout", False
    if isinstance(exc, urllib3.exceptions.HTTPError | OSError):
        return "connection", False
    return "other", False
