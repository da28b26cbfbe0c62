"""The sensor simulator: every station's messages, as MQTT topic and JSON bytes, for any window
of event time, deterministic for a seed.

Timing: station ``s`` reports at ``start - lead_in(kind) + phase(s) + k × interval`` for
k = 0, 1, 2, ... (``seq`` = k). The phase is a seeded offset inside one interval, so stations do
not all report in the same millisecond; seismic packets are aligned to the start (phase 0) and
cover one second each, ``seq`` = 3 k + channel (HNZ, HNN, HNE). Times are whole milliseconds.

Wire format (DESIGN §3): topic ``{prefix}/{district}/{kind}/{station}``; body
``{"station", "ts", "seq", "values", "quality": "ok"}`` or, for seismic,
``{"station", "ts", "seq", "channel", "sr", "t0", "samples"}`` with ``ts``/``t0`` in epoch ms.
"""

from __future__ import annotations

import json
import math
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

import numpy as np

from simulators.noise import stream_key, uniform
from simulators.scenario import Scenario
from simulators.sources import DIGITS, RainSource, ScalarSource, SeismicSource
from yujing.config.stations import Registry, StationSpec
from yujing.contracts import Kind

__all__ = ["SEISMIC_CHANNELS", "SensorSimulator", "SimMessage"]

SEISMIC_CHANNELS = ("HNZ", "HNN", "HNE")
SEISMIC_SR_HZ = 100
SAMPLE_DIGITS = 5  # 10 µm/s² resolution, far below the noise floor


@dataclass(frozen=True, slots=True)
class SimMessage:
    """One message: event time ``ts`` (epoch s), station, kind, seq, topic and JSON payload."""

    ts: float
    station: str
    kind: Kind
    seq: int
    topic: str
    payload: bytes


@dataclass(frozen=True, slots=True)
class _Timing:
    spec: StationSpec
    order: int
    base_ms: int
    interval_ms: int
    topic: str

    def report_range(self, lo_ms: int, hi_ms: int) -> tuple[int, int]:
        """Report numbers k whose time lies in [lo_ms, hi_ms)."""
        first = max(0, -((self.base_ms - lo_ms) // self.interval_ms))
        last = max(0, -((self.base_ms - hi_ms) // self.interval_ms))
        return first, last


_Row = tuple[int, int, int, SimMessage]


def _dumps(body: dict[str, Any]) -> bytes:
    return json.dumps(body, separators=(",", ":")).encode()


class SensorSimulator:
    """All stations of ``registry`` under ``scenario``; scenario time 0 is epoch ``start``."""

    def __init__(
        self,
        registry: Registry,
        scenario: Scenario,
        seed: int,
        start: float,
        *,
        topic_prefix: str = "yujing/v1",
    ) -> None:
        scenario.check_against(registry)
        self.registry = registry
        self.scenario = scenario
        self.seed = seed
        self.start_ms = round(start * 1000)
        self._timings: list[_Timing] = []
        self._sources: dict[str, RainSource | ScalarSource | SeismicSource] = {}
        for order, spec in enumerate(registry):
            interval_ms = round(spec.interval_s * 1000)
            phase_ms = 0
            if spec.kind is not Kind.SEISMIC:
                draw = float(uniform(stream_key(seed, spec.id, "phase"), [0])[0])
                phase_ms = min(int(draw * interval_ms), interval_ms - 1)
            base_ms = self.start_ms - round(scenario.lead_in_for(spec.kind) * 1000) + phase_ms
            topic = f"{topic_prefix}/{spec.district}/{spec.kind.value}/{spec.id}"
            self._timings.append(_Timing(spec, order, base_ms, interval_ms, topic))
            self._sources[spec.id] = self._source(spec, (base_ms - self.start_ms) / 1000)

    def _source(
        self, spec: StationSpec, first_s: float
    ) -> RainSource | ScalarSource | SeismicSource:
        if spec.kind is Kind.RAIN:
            draw = float(uniform(stream_key(self.seed, spec.id, "catch"), [0])[0])
            return RainSource(spec, self.scenario.storms, catch_factor=0.94 + 0.12 * draw)
        if spec.kind is Kind.SEISMIC:
            return SeismicSource(spec, self.seed, self.scenario.earthquakes, first_s, SEISMIC_SR_HZ)
        profiles = tuple(
            (profile, where)
            for profile in self.scenario.profiles
            for where in profile.stations
            if where.station == spec.id
        )
        waves = tuple(
            (wave, reach)
            for wave in self.scenario.rivers
            for reach in wave.reaches
            if reach.station == spec.id
        )
        return ScalarSource(spec, self.seed, profiles, waves)

    @property
    def start(self) -> float:
        """Epoch seconds of scenario time 0."""
        return self.start_ms / 1000

    @property
    def first_ts(self) -> float:
        """Event time of the earliest message (lead-in included)."""
        return min(t.base_ms for t in self._timings) / 1000

    def source(self, station: str) -> RainSource | ScalarSource | SeismicSource:
        """The signal source behind a station (for ground truth and tests)."""
        return self._sources[station]

    def messages(self, t0: float, t1: float) -> list[tuple[str, bytes]]:
        """(topic, JSON bytes) of every message with event time in [t0, t1), in event-time
        order (ties: registry order, then channel)."""
        return [(m.topic, m.payload) for m in self.stream(t0, t1)]

    def stream(
        self, t0: float, t1: float, kinds: Collection[Kind] | None = None
    ) -> list[SimMessage]:
        """Like :meth:`messages`, as :class:`SimMessage` and optionally for some kinds only."""
        lo_ms, hi_ms = math.ceil(t0 * 1000), math.ceil(t1 * 1000)
        rows: list[_Row] = []
        for timing in self._timings:
            if kinds is not None and timing.spec.kind not in kinds:
                continue
            k_from, k_to = timing.report_range(lo_ms, hi_ms)
            if k_to <= k_from:
                continue
            if timing.spec.kind is Kind.SEISMIC:
                rows.extend(self._packets(timing, k_from, k_to))
            else:
                rows.extend(self._reports(timing, k_from, k_to))
        rows.sort(key=lambda row: row[:3])
        return [row[3] for row in rows]

    def _reports(self, timing: _Timing, k_from: int, k_to: int) -> list[_Row]:
        source = self._sources[timing.spec.id]
        assert not isinstance(source, SeismicSource)
        seq = np.arange(k_from, k_to, dtype=np.int64)
        ts_ms = timing.base_ms + seq * timing.interval_ms
        values = source.values((ts_ms - self.start_ms) / 1000.0, seq)
        rows = []
        for i, (k, ts) in enumerate(zip(seq.tolist(), ts_ms.tolist(), strict=True)):
            body = {
                "station": timing.spec.id,
                "ts": ts,
                "seq": k,
                "values": {q: round(float(v[i]), DIGITS[q]) + 0.0 for q, v in values.items()},
                "quality": "ok",
            }
            message = SimMessage(
                ts / 1000, timing.spec.id, timing.spec.kind, k, timing.topic, _dumps(body)
            )
            rows.append((ts, timing.order, 0, message))
        return rows

    def _packets(self, timing: _Timing, k_from: int, k_to: int) -> list[_Row]:
        source = self._sources[timing.spec.id]
        assert isinstance(source, SeismicSource)
        per_packet = SEISMIC_SR_HZ * timing.interval_ms // 1000
        block = source.samples(k_from * per_packet, k_to * per_packet)
        block = np.round(block, SAMPLE_DIGITS) + 0.0
        rows = []
        for p, k in enumerate(range(k_from, k_to)):
            ts = timing.base_ms + k * timing.interval_ms
            for c, channel in enumerate(SEISMIC_CHANNELS):
                samples = block[c, p * per_packet : (p + 1) * per_packet].tolist()
                body = {
                    "station": timing.spec.id,
                    "ts": ts,
                    "seq": 3 * k + c,
                    "channel": channel,
                    "sr": SEISMIC_SR_HZ,
                    "t0": ts,
                    "samples": samples,
                }
                message = SimMessage(
                    ts / 1000, timing.spec.id, Kind.SEISMIC, 3 * k + c, timing.topic, _dumps(body)
                )
                rows.append((ts, timing.order, c, message))
        return rows
