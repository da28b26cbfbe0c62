"""The sensor simulator: every station's messages, as MQTT topic and JSON bytes or as decoded
:class:`~yujing.contracts.Reading` objects, for any window of time, deterministic for a seed.

Timing: station ``s`` reports at ``start - lead_in(kind) + phase(s) + k × interval`` for
k = 0, 1, 2, ... (``seq`` = k). The phase is a seeded offset inside one interval, so stations do
not all report in the same millisecond; seismic packets are aligned to the start (phase 0) and
cover one second each, ``seq`` = 3 k + channel (HNZ, HNN, HNE). Times are whole milliseconds.

Two views of the same run:

- :meth:`SensorSimulator.stream` — the clean sensor output by *event time* (no faults);
- :meth:`SensorSimulator.deliveries` / :meth:`SensorSimulator.readings` — what reaches the
  broker by *arrival time*, with the scenario's faults (:mod:`simulators.faults`) applied: a
  reading arrives at its event time, a seismic packet when its last sample is taken (+1 s),
  a buffered upload when the outage ends; history from before the start (the lead-in) arrives
  at the start, in event-time order, as the live publisher sends it. ``readings`` gives
  exactly what ingest would decode from ``deliveries`` (same order, same values), without the
  JSON round trip: replay feeds it to the pipeline directly.

Wire format (DESIGN §3): topic ``{prefix}/{district}/{kind}/{station}``; body
``{"station", "ts", "seq", "values", "quality": "ok"}`` or, for seismic,
``{"station", "ts", "seq", "channel", "sr", "t0", "samples"}`` with ``ts``/``t0`` in epoch ms.
"""

from __future__ import annotations

import json
import math
from collections.abc import Collection
from dataclasses import dataclass, fields
from types import MappingProxyType
from typing import Any

import numpy as np

from simulators.faults import Fault, Record, apply_faults, max_delay_s
from simulators.noise import FloatArray, stream_key, uniform
from simulators.rows import Rows, RowsBuilder
from simulators.scenario import Scenario
from simulators.sources import (
    DIGITS,
    SEISMIC_SR_HZ,
    RainSource,
    SeismicSource,
    Source,
    SourceBuilder,
    batched_field,
    rain_values,
)
from yujing.config.stations import Registry, StationSpec
from yujing.contracts import Kind, Reading, Waveform

__all__ = ["SEISMIC_CHANNELS", "SensorSimulator", "SimMessage"]

SEISMIC_CHANNELS = ("HNZ", "HNN", "HNE")
SAMPLE_DIGITS = 5  # 10 µm/s² resolution, far below the noise floor
PACKET_S = 1.0  # a seismic packet leaves when its last sample is taken
_NO_VALUES: MappingProxyType[str, float] = MappingProxyType({})
_BEFORE_ALL_MS = -(2**62)


@dataclass(frozen=True, slots=True)
class SimMessage:
    """One message: event time ``ts`` (epoch s), station, kind, seq, topic and JSON payload;
    ``arrival`` is when it reaches the broker (epoch s)."""

    ts: float
    station: str
    kind: Kind
    seq: int
    topic: str
    payload: bytes
    arrival: float = math.nan


@dataclass(frozen=True, slots=True)
class _Timing:
    spec: StationSpec
    order: int
    base_ms: int
    interval_ms: int
    topic: str
    faults: tuple[Fault, ...]

    def report_range(self, lo_ms: int, hi_ms: int) -> tuple[int, int]:
        """Report numbers k whose time lies in [lo_ms, hi_ms)."""
        first = max(0, -((self.base_ms - lo_ms) // self.interval_ms))
        last = max(0, -((self.base_ms - hi_ms) // self.interval_ms))
        return first, last


def _dumps(body: dict[str, Any]) -> bytes:
    return json.dumps(body, separators=(",", ":")).encode()


def _rounded(values: dict[str, float]) -> dict[str, float]:
    return {q: round(float(v), DIGITS[q]) + 0.0 for q, v in values.items()}


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
        self.topic_prefix = topic_prefix
        self._timings: list[_Timing] = []
        self._sources: dict[str, Source] = {}
        faults: dict[str, list[Fault]] = {}
        for fault in scenario.faults:
            faults.setdefault(fault.station, []).append(fault)
        lead = max(scenario.lead_in_s.values(), default=0.0)
        builder = SourceBuilder(
            registry, scenario, seed, (-lead - 7200.0, scenario.duration_s + 7200.0)
        )
        self.relief_s = builder.relief_s
        for order, spec in enumerate(registry):
            interval_ms = round(spec.interval_s * 1000)
            phase_ms = 0
            if spec.kind is not Kind.SEISMIC:
                draw = float(uniform(stream_key(seed, spec.id, "phase"), [0])[0])
                phase_ms = min(int(draw * interval_ms), interval_ms - 1)
            base_ms = self.start_ms - round(scenario.lead_in_for(spec.kind) * 1000) + phase_ms
            topic = f"{topic_prefix}/{spec.district}/{spec.kind.value}/{spec.id}"
            timing = _Timing(
                spec, order, base_ms, interval_ms, topic, tuple(faults.get(spec.id, ()))
            )
            self._timings.append(timing)

            def catch(station: str = spec.id) -> float:
                draw = float(uniform(stream_key(seed, station, "catch"), [0])[0])
                return 0.94 + 0.12 * draw

            self._sources[spec.id] = builder.build(spec, (base_ms - self.start_ms) / 1000, catch)

    @property
    def start(self) -> float:
        """Epoch seconds of scenario time 0."""
        return self.start_ms / 1000

    @property
    def end(self) -> float:
        """Epoch seconds of the scenario's end."""
        return self.start + self.scenario.duration_s

    @property
    def first_ts(self) -> float:
        """Event time of the earliest message (lead-in included)."""
        return min(t.base_ms for t in self._timings) / 1000

    def source(self, station: str) -> Source:
        """The signal source behind a station (for ground truth and tests)."""
        return self._sources[station]

    # -- clean output by event time ------------------------------------------------------------

    def messages(self, t0: float, t1: float) -> list[tuple[str, bytes]]:
        """(topic, JSON bytes) of every clean message with event time in [t0, t1), in event-time
        order (ties: registry order, then channel)."""
        return [(m.topic, m.payload) for m in self.stream(t0, t1)]

    def stream(
        self, t0: float, t1: float, kinds: Collection[Kind] | None = None
    ) -> list[SimMessage]:
        """Like :meth:`messages`, as :class:`SimMessage` and optionally for some kinds only."""
        lo_ms, hi_ms = math.ceil(t0 * 1000), math.ceil(t1 * 1000)
        builder = RowsBuilder()
        for timing in self._timings:
            if kinds is None or timing.spec.kind in kinds:
                self._add_clean(builder, timing, lo_ms, hi_ms)
        return self._messages(builder.rows(by_event_time=True))

    # -- delivered output by arrival time ------------------------------------------------------

    def deliveries(
        self, t0: float, t1: float, kinds: Collection[Kind] | None = None
    ) -> list[SimMessage]:
        """Every message (faults applied) whose arrival is in [t0, t1), in arrival order."""
        return self._messages(self._rows(t0, t1, kinds))

    def readings(
        self,
        t0: float,
        t1: float,
        kinds: Collection[Kind] | None = None,
        stations: Collection[str] | None = None,
    ) -> list[Reading]:
        """What ingest decodes from :meth:`deliveries` (``received`` = arrival), directly."""
        return self.readings_of(self.delivered_rows(t0, t1, kinds, stations))

    def delivered_rows(
        self,
        t0: float,
        t1: float,
        kinds: Collection[Kind] | None = None,
        stations: Collection[str] | None = None,
    ) -> Rows:
        """What :meth:`readings` makes its readings of: columns, cheap to send to another
        process, which makes the readings with :meth:`readings_of`."""
        return self._rows(t0, t1, kinds, stations)

    def readings_of(self, rows: Rows) -> list[Reading]:
        """The readings of rows from :meth:`delivered_rows`."""
        specs = [timing.spec for timing in self._timings]
        return list(map(
            _reading, map(specs.__getitem__, rows.order), rows.arrival, rows.ts_ms,
            rows.channel, rows.seq, rows.payload,
        ))  # fmt: skip

    @property
    def first_arrival(self) -> float:
        """When the first message reaches the broker (history arrives at the start)."""
        lag_ms = round(PACKET_S * 1000)
        return (
            min(
                max(t.base_ms + (lag_ms if t.spec.kind is Kind.SEISMIC else 0), self.start_ms)
                for t in self._timings
            )
            / 1000
        )

    def _rows(
        self,
        t0: float,
        t1: float,
        kinds: Collection[Kind] | None,
        stations: Collection[str] | None = None,
    ) -> Rows:
        lo_ms, hi_ms = math.ceil(t0 * 1000), math.ceil(t1 * 1000)
        builder = RowsBuilder()
        if hi_ms <= self.start_ms:
            return builder.rows()  # nothing arrives before the start: history comes at it
        gauges: list[tuple[_Timing, int, int]] = []  # clean rain gauges: made together
        for timing in self._timings:
            spec = timing.spec
            if kinds is not None and spec.kind not in kinds:
                continue
            if stations is not None and spec.id not in stations:
                continue
            lag_ms = round(PACKET_S * 1000) if spec.kind is Kind.SEISMIC else 0
            early_ms = math.ceil(max_delay_s(timing.faults) * 1000)
            # event times whose arrival can fall in [lo, hi): all history when lo <= start
            ts_lo = lo_ms - lag_ms - early_ms if lo_ms > self.start_ms else _BEFORE_ALL_MS
            if not timing.faults and isinstance(self._sources[spec.id], RainSource):
                gauges.append((timing, ts_lo, hi_ms - lag_ms))
                continue
            if not timing.faults:
                self._add_clean(builder, timing, ts_lo, hi_ms - lag_ms)
                continue
            records = [
                record
                for record in self._faulted_records(timing, ts_lo, hi_ms - lag_ms)
                if lo_ms <= round(record.arrival * 1000) < hi_ms
            ]
            builder.add_records(timing.order, records, map(_payload, records))
        self._add_clean_gauges(builder, gauges)
        return builder.rows()

    def _add_clean_gauges(
        self, builder: RowsBuilder, gauges: list[tuple[_Timing, int, int]]
    ) -> None:
        """:meth:`_add_clean` of rain gauges (timing, event times ``[lo_ms, hi_ms)``), all at
        once where they share a rain field :func:`rain_values` takes: the same rows (their
        order is set by sorting)."""
        fields: dict[int, list[tuple[_Timing, RainSource, int, int]]] = {}
        for timing, lo_ms, hi_ms in gauges:
            source = self._sources[timing.spec.id]
            assert isinstance(source, RainSource)
            if not batched_field(source.parts):
                self._add_clean(builder, timing, lo_ms, hi_ms)
                continue
            k_from, k_to = timing.report_range(lo_ms, hi_ms)
            if k_to > k_from:
                fields.setdefault(id(source.parts), []).append((timing, source, k_from, k_to))
        for group in fields.values():
            counts = [k_to - k_from for _, _, k_from, k_to in group]
            seq = np.concatenate([np.arange(k, end, dtype=np.int64) for _, _, k, end in group])
            base = np.repeat([timing.base_ms for timing, *_ in group], counts)
            interval = np.repeat([timing.interval_ms for timing, *_ in group], counts)
            ts_ms = base + seq * interval
            sources = [source for _, source, _, _ in group]
            values = rain_values(sources, counts, (ts_ms - self.start_ms) / 1000.0)
            arrival = np.maximum(ts_ms, self.start_ms) / 1000
            orders = np.repeat([timing.order for timing, *_ in group], counts)
            builder.add_clean_rows(orders, arrival, ts_ms, seq, _bodies(values))

    def _add_clean(self, builder: RowsBuilder, timing: _Timing, lo_ms: int, hi_ms: int) -> None:
        """The station's clean reports with event time in [lo_ms, hi_ms)."""
        k_from, k_to = timing.report_range(lo_ms, hi_ms)
        if k_to <= k_from:
            return
        if timing.spec.kind is Kind.SEISMIC:
            records = self._packet_records(timing, k_from, k_to)
            builder.add_records(timing.order, records, [r.samples for r in records])
            return
        source = self._sources[timing.spec.id]
        assert not isinstance(source, SeismicSource)
        seq = np.arange(k_from, k_to, dtype=np.int64)
        ts_ms = timing.base_ms + seq * timing.interval_ms
        values = source.values((ts_ms - self.start_ms) / 1000.0, seq)
        arrival = np.maximum(ts_ms, self.start_ms) / 1000
        builder.add_clean(timing.order, arrival, ts_ms, seq, _bodies(values))

    def _faulted_records(self, timing: _Timing, lo_ms: int, hi_ms: int) -> list[Record]:
        k_from, k_to = timing.report_range(lo_ms, hi_ms)
        if k_to <= k_from:
            return []
        if timing.spec.kind is Kind.SEISMIC:
            records = self._packet_records(timing, k_from, k_to)
        else:
            records = self._scalar_records(timing, k_from, k_to)
        return apply_faults(
            records,
            timing.faults,
            self.start,
            self.seed,
            timing.spec.id,
            timing.spec.interval_s,
            lambda t_s: self._first_values(timing, t_s),
        )

    def _scalar_records(self, timing: _Timing, k_from: int, k_to: int) -> list[Record]:
        source = self._sources[timing.spec.id]
        assert not isinstance(source, SeismicSource)
        seq = np.arange(k_from, k_to, dtype=np.int64)
        ts_ms = timing.base_ms + seq * timing.interval_ms
        values = source.values((ts_ms - self.start_ms) / 1000.0, seq)
        start_ms = self.start_ms
        return [
            Record(
                max(ts, start_ms) / 1000,
                ts,
                k,
                0,
                {q: float(v[i]) for q, v in values.items()},
                None,
                ts / 1000,
            )
            for i, (k, ts) in enumerate(zip(seq.tolist(), ts_ms.tolist(), strict=True))
        ]

    def _first_values(self, timing: _Timing, t_s: float) -> dict[str, float]:
        at_ms = self.start_ms + math.ceil(t_s * 1000)
        k, _ = timing.report_range(at_ms, at_ms)
        records = self._scalar_records(timing, k, k + 1)
        return dict(records[0].values or {})

    def _packet_records(self, timing: _Timing, k_from: int, k_to: int) -> list[Record]:
        source = self._sources[timing.spec.id]
        assert isinstance(source, SeismicSource)
        per_packet = SEISMIC_SR_HZ * timing.interval_ms // 1000
        block = source.samples(k_from * per_packet, k_to * per_packet)
        block = np.round(block, SAMPLE_DIGITS) + 0.0
        records = []
        for p, k in enumerate(range(k_from, k_to)):
            ts = timing.base_ms + k * timing.interval_ms
            for c in range(len(SEISMIC_CHANNELS)):
                samples = block[c, p * per_packet : (p + 1) * per_packet]
                arrival = max(ts + round(PACKET_S * 1000), self.start_ms) / 1000
                records.append(Record(arrival, ts, 3 * k + c, c, None, samples, ts / 1000))
        return records

    # -- encoders ------------------------------------------------------------------------------

    def _messages(self, rows: Rows) -> list[SimMessage]:
        timings = self._timings
        return [
            _message(timings[order], arrival, ts, channel, seq, payload)
            for arrival, ts, order, channel, seq, payload in zip(
                rows.arrival, rows.ts_ms, rows.order, rows.channel, rows.seq, rows.payload,
                strict=True,
            )
        ]  # fmt: skip


def _bodies(values: dict[str, FloatArray]) -> list[dict[str, float]]:
    """One values dict per report, rounded to each quantity's digits (as the wire carries)."""
    columns = [(q, _rounded_column(v.tolist(), DIGITS[q])) for q, v in values.items()]
    if len(columns) == 1:
        name, column = columns[0]
        return [{name: x} for x in column]
    names = [q for q, _ in columns]
    return [
        dict(zip(names, row, strict=True)) for row in zip(*(c for _, c in columns), strict=True)
    ]


_ROUNDED: dict[int, dict[float, float]] = {}
_ROUNDED_KEPT = 4096


def _rounded_column(column: list[float], digits: int) -> list[float]:
    """``round(x, digits) + 0.0`` of each value, remembered: ``round`` with digits goes
    through decimal digits (a quarter of a microsecond), and a rain gauge's increments are a
    few multiples of the tip, over and over. Distinct values are forgotten past
    :data:`_ROUNDED_KEPT` (a level gauge's rarely repeat)."""
    seen = _ROUNDED.setdefault(digits, {})
    if len(seen) > _ROUNDED_KEPT:
        seen.clear()
    get = seen.get
    out = []
    for x in column:
        y = get(x)
        if y is None:
            y = seen[x] = round(x, digits) + 0.0
        out.append(y)
    return out


def _payload(record: Record) -> Any:
    return record.samples if record.values is None else _rounded(record.values)


def _message(
    timing: _Timing, arrival: float, ts: int, channel: int, seq: int, payload: Any
) -> SimMessage:
    spec = timing.spec
    body: dict[str, Any]
    if spec.kind is Kind.SEISMIC:
        body = {
            "station": spec.id,
            "ts": ts,
            "seq": seq,
            "channel": SEISMIC_CHANNELS[channel],
            "sr": SEISMIC_SR_HZ,
            "t0": ts,
            "samples": payload.tolist(),
        }
    else:
        body = {"station": spec.id, "ts": ts, "seq": seq, "values": payload, "quality": "ok"}
    return SimMessage(ts / 1000, spec.id, spec.kind, seq, timing.topic, _dumps(body), arrival)


def _reading(
    spec: StationSpec, arrival: float, ts: int, channel: int, seq: int, payload: Any
) -> Reading:
    if spec.kind is Kind.SEISMIC:
        samples: FloatArray = np.array(payload, dtype=np.float64)
        samples.flags.writeable = False
        wave = Waveform(SEISMIC_CHANNELS[channel], float(SEISMIC_SR_HZ), ts / 1000, samples)
        return Reading(
            spec.id, spec.kind, spec.district, ts / 1000, seq, _NO_VALUES, None, wave, arrival
        )
    return _scalar_reading(spec.id, spec.kind, spec.district, ts / 1000, seq, payload, arrival)


_new = object.__new__
_SETTERS = {field.name: getattr(Reading, field.name).__set__ for field in fields(Reading)}
_SET_STATION, _SET_KIND, _SET_DISTRICT = _SETTERS["station"], _SETTERS["kind"], _SETTERS["district"]
_SET_TS, _SET_SEQ, _SET_VALUES = _SETTERS["ts"], _SETTERS["seq"], _SETTERS["values"]
_SET_QUALITY, _SET_WAVEFORM = _SETTERS["quality"], _SETTERS["waveform"]
_SET_RECEIVED = _SETTERS["received"]
if len(_SETTERS) != 9:  # a field added to Reading must be set here too
    raise RuntimeError(f"Reading has fields {list(_SETTERS)}: update _scalar_reading")


def _scalar_reading(
    station: str, kind: Kind, district: str, ts: float, seq: int, values: Any, received: float
) -> Reading:
    """``Reading(station, kind, district, ts, seq, values, "ok", None, received)``, its slots
    set directly: the frozen dataclass's ``__init__`` sets each through ``object.__setattr__``,
    which took more time than the rest of making a reading (a city day makes 2.3 million)."""
    reading: Reading = _new(Reading)
    _SET_STATION(reading, station)
    _SET_KIND(reading, kind)
    _SET_DISTRICT(reading, district)
    _SET_TS(reading, ts)
    _SET_SEQ(reading, seq)
    _SET_VALUES(reading, values)
    _SET_QUALITY(reading, "ok")
    _SET_WAVEFORM(reading, None)
    _SET_RECEIVED(reading, received)
    return reading
