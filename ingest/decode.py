"""Decode one MQTT message into a :class:`~yujing.contracts.Reading`, or refuse it with a reason.

Checks run cheapest first, so junk costs little: size, topic (against the registry), JSON, body
shape, station, values (presence, finiteness, range), event time, then the station history
(duplicate, too late). The first failing check names the reason; see ``docs/reading-schema.md``.

Rules this module decides:

- Quantities a kind does not list in ``configs/quantities.yaml`` are dropped (new firmware may add
  channels); the message is refused as ``missing_values`` only when no listed quantity remains.
- One listed quantity out of range (or non-finite) refuses the whole message: a sensor reporting
  the impossible on one channel is not trusted on the others.
- ``too_late`` raises :class:`LateReading`, which carries the decoded reading so the runtime can
  still store it (DESIGN §4: counted, dead-lettered and stored).

A Decoder keeps state (:class:`~ingest.history.StationHistory`); it is not thread-safe. One
consumer thread owns it; ``snapshot()``/``restore()`` carry the state across restarts.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import numpy as np
import numpy.typing as npt

from ingest import wire
from ingest.history import StationHistory
from ingest.topics import DEFAULT_PREFIX, parse_topic, reading_topic
from ingest.wire import malformed, show
from yujing.config.quantities import QuantityLimits
from yujing.config.settings import Settings
from yujing.config.stations import Registry, StationSpec
from yujing.contracts import ConfigError, Kind, PayloadRejected, Reading, RejectReason, Waveform

SEISMIC_QUANTITY = "accel_ms2"
_NO_VALUES: Mapping[str, float] = MappingProxyType({})
_NUMBER_TYPES = frozenset({float, int})


class LateReading(PayloadRejected):
    """``too_late``, with the reading that was too late (to store it all the same)."""

    def __init__(self, reading: Reading, detail: str) -> None:
        super().__init__(RejectReason.TOO_LATE, detail)
        self.reading = reading


@dataclass(frozen=True, slots=True)
class _Route:
    """A registered station as seen from its exact topic: the fast path's lookup result."""

    spec: StationSpec
    limits: Mapping[str, tuple[float, float]]


class Decoder:
    """Turns ``(topic, payload)`` into a Reading for registered stations; see module docs."""

    def __init__(
        self,
        registry: Registry,
        limits: QuantityLimits,
        *,
        prefix: str = DEFAULT_PREFIX,
        max_payload_bytes: int = 256 * 1024,
        future_tolerance_s: float = 300.0,
        allowed_lateness_s: float = 3600.0,
        seq_memory: int = 4096,
    ) -> None:
        self.registry = registry
        self.prefix = prefix
        self.max_payload_bytes = max_payload_bytes
        self.future_tolerance_s = future_tolerance_s
        self.history = StationHistory(allowed_lateness_s, seq_memory)
        self._routes = {
            reading_topic(prefix, spec.district, spec.kind, spec.id): _Route(
                spec, _bounds(limits, spec)
            )
            for spec in registry
        }

    @classmethod
    def from_settings(
        cls, registry: Registry, limits: QuantityLimits, settings: Settings
    ) -> Decoder:
        """A decoder with the ingest limits and topic prefix of ``settings``."""
        ingest = settings.ingest
        return cls(
            registry,
            limits,
            prefix=settings.mqtt.topic_prefix,
            max_payload_bytes=ingest.max_payload_bytes,
            future_tolerance_s=ingest.future_tolerance_s,
            allowed_lateness_s=ingest.allowed_lateness_s,
        )

    def decode(
        self, topic: str, payload: bytes, now: float, received: float | None = None
    ) -> Reading:
        """The Reading in ``payload``, or ``PayloadRejected(reason, detail)``.

        ``now`` is the event-time clock (for ``future_timestamp``); ``received`` the wall time the
        message arrived (defaults to ``now``), kept in the Reading for latency metrics.
        """
        if len(payload) > self.max_payload_bytes:
            raise PayloadRejected(
                RejectReason.OVERSIZED,
                f"{len(payload)} bytes exceeds the limit of {self.max_payload_bytes}",
            )
        route = self._routes.get(topic)
        if route is None:
            raise self._route_problem(topic)
        spec = route.spec
        read = self._seismic if spec.kind is Kind.SEISMIC else self._plain
        arrived = received if received is not None else now
        body = wire.parse_json(payload)
        try:
            reading = read(body, route, arrived)
        except PayloadRejected:  # the verdict on the numbers as sent (see wire.parse_json)
            reading = read(wire.parse_json_exact(payload), route, arrived)
        if reading.ts > now + self.future_tolerance_s:
            raise PayloadRejected(
                RejectReason.FUTURE_TIMESTAMP,
                f"ts {reading.ts:.3f} is {reading.ts - now:.3f} s ahead of now {now:.3f} "
                f"(tolerance {self.future_tolerance_s:g} s)",
            )
        channel = "" if reading.waveform is None else reading.waveform.channel
        try:
            self.history.admit(spec.id, channel, reading.seq, reading.ts)
        except PayloadRejected as exc:
            if exc.reason is RejectReason.TOO_LATE:
                raise LateReading(reading, exc.detail) from None
            raise
        return reading

    def snapshot(self) -> dict[str, Any]:
        """Plain-JSON state (watermarks, remembered message keys)."""
        return self.history.snapshot()

    def restore(self, snapshot: dict[str, Any]) -> None:
        self.history.restore(snapshot)

    def _plain(self, body: Any, route: _Route, received: float) -> Reading:
        """Inline checks for the common shape; the ``wire`` checkers only to name a problem.

        Order: every shape problem (malformed) first, then station, then values.
        """
        spec = route.spec
        if (
            type(body) is not dict
            or not body.keys() <= wire.PLAIN_FIELDS
            or len(body) - ("quality" in body) != len(wire.PLAIN_REQUIRED)
        ):
            wire.check_fields(body, wire.PLAIN_FIELDS, wire.PLAIN_REQUIRED, spec.kind.value)
        ts = body["ts"]
        if type(ts) is int and wire.MIN_TS_MS <= ts <= wire.MAX_TS_MS:
            ts = ts / 1000.0
        else:
            ts = wire.event_time(ts, "ts")
        seq, quality = _seq_quality(body)
        values = body["values"]
        if type(values) is not dict:
            raise malformed(f"values: must be an object, got {show(values)}")
        kept: dict[str, float] = {}
        limits = route.limits
        outside: tuple[str, float | int, float, float] | None = None
        for name, value in values.items():
            number_type = type(value)
            if number_type is not float and number_type is not int:
                wire.number(value, f"values.{name}")
            bounds = limits.get(name)
            if bounds is None:
                continue
            if not bounds[0] <= value <= bounds[1]:  # also catches ±inf (NaN cannot parse)
                outside = outside or (name, value, *bounds)
            elif number_type is int:
                kept[name] = float(value)
            else:
                kept[name] = value
        if body["station"] != spec.id:
            _check_station(body["station"], spec)
        if outside is not None:
            raise _value_problem(*outside, spec.kind)
        if not kept:
            raise PayloadRejected(RejectReason.MISSING_VALUES, _missing(values, route))
        return Reading(spec.id, spec.kind, spec.district, ts, seq, kept, quality, None, received)

    def _seismic(self, body: Any, route: _Route, received: float) -> Reading:
        """Inline checks for the common shape (as :meth:`_plain`); the ``wire`` checkers only to
        name a problem, in the same order: fields, t0, ts, seq, quality, channel, sr, samples'
        types, station, then the samples' values."""
        spec = route.spec
        if (
            type(body) is not dict
            or not body.keys() <= wire.SEISMIC_FIELDS
            or len(body) - ("ts" in body) - ("quality" in body) != len(wire.SEISMIC_REQUIRED)
        ):
            wire.check_fields(body, wire.SEISMIC_FIELDS, wire.SEISMIC_REQUIRED, spec.kind.value)
        t0 = _event_time(body["t0"], "t0")
        ts_value = body.get("ts")
        ts = t0 if ts_value is None else _event_time(ts_value, "ts")
        seq, quality = _seq_quality(body)
        channel = body["channel"]
        if type(channel) is not str or not 0 < len(channel) <= wire.MAX_CHANNEL_CHARS:
            wire.channel_code(channel)
        sr_hz = _sample_rate(body["sr"])
        samples = body["samples"]
        if type(samples) is not list:
            raise malformed(f"samples: must be an array, got {show(samples)}")
        if not set(map(type, samples)) <= _NUMBER_TYPES:
            bad = next(s for s in samples if type(s) not in _NUMBER_TYPES)
            raise malformed(f"samples: must be numbers, got {show(bad)}")
        if body["station"] != spec.id:
            _check_station(body["station"], spec)
        if not samples:
            raise PayloadRejected(RejectReason.MISSING_VALUES, "samples: empty")
        low, high = route.limits[SEISMIC_QUANTITY]
        waveform = Waveform(channel, sr_hz, t0, _sample_array(samples, low, high))
        return Reading(
            spec.id, spec.kind, spec.district, ts, seq, _NO_VALUES, quality, waveform, received
        )

    def _route_problem(self, topic: str) -> PayloadRejected:
        """Why ``topic`` is not a registered station's topic (the slow path)."""
        try:
            parts = parse_topic(topic, self.prefix)
        except PayloadRejected as exc:
            return exc
        spec = self.registry.get(parts.station)
        if spec is None:
            return PayloadRejected(
                RejectReason.UNKNOWN_STATION, f"station {parts.station!r} is not in the registry"
            )
        return PayloadRejected(
            RejectReason.KIND_MISMATCH,
            f"topic says {parts.district}/{parts.kind} but the registry has station "
            f"{spec.id!r} as {spec.district}/{spec.kind}",
        )


def _bounds(limits: QuantityLimits, spec: StationSpec) -> Mapping[str, tuple[float, float]]:
    bounds = {name: (limit.min, limit.max) for name, limit in limits.for_kind(spec.kind).items()}
    if not bounds:
        raise ConfigError(f"quantities: no limits for kind {spec.kind} (station {spec.id})")
    if spec.kind is Kind.SEISMIC and SEISMIC_QUANTITY not in bounds:
        raise ConfigError(f"quantities: kind seismic needs {SEISMIC_QUANTITY!r} limits")
    return MappingProxyType(bounds)


def _check_station(station: Any, spec: StationSpec) -> None:
    if station == spec.id:
        return
    if type(station) is not str:
        raise malformed(f"station: must be a string, got {show(station)}")
    raise PayloadRejected(
        RejectReason.STATION_MISMATCH, f"body station {show(station)} != topic station {spec.id!r}"
    )


def _value_problem(
    name: str, value: float | int, low: float, high: float, kind: Kind
) -> PayloadRejected:
    if type(value) is float and not math.isfinite(value):
        return PayloadRejected(RejectReason.NON_FINITE, f"values.{name}: {value} is not finite")
    return PayloadRejected(
        RejectReason.OUT_OF_RANGE,
        f"values.{name}: {show(value)} outside [{low:g}, {high:g}] for {kind}",
    )


def _missing(values: dict[str, Any], route: _Route) -> str:
    known = ", ".join(sorted(route.limits))
    if not values:
        return f"values: empty (kind {route.spec.kind} takes {known})"
    got = ", ".join(sorted(values)[:10])
    return f"values: no quantity known for kind {route.spec.kind} (got {got}; takes {known})"


def _seq_quality(body: dict[str, Any]) -> tuple[int, str | None]:
    """``seq`` and ``quality`` of a checked body; the ``wire`` checkers only to name a problem."""
    seq = body["seq"]
    if type(seq) is not int or seq < 0:
        wire.sequence_number(seq)
    quality = body.get("quality")
    if quality is not None and type(quality) is not str:
        wire.quality_flag(quality)
    return seq, quality


def _event_time(value: Any, name: str) -> float:
    """:func:`wire.event_time`, integer epoch ms (what digitisers send) without the call."""
    if type(value) is int and wire.MIN_TS_MS <= value <= wire.MAX_TS_MS:
        return value / 1000.0
    return wire.event_time(value, name)


def _sample_rate(value: Any) -> float:
    """:func:`wire.sample_rate`, a plausible rate without the calls."""
    if (type(value) is float or type(value) is int) and 0 < value <= wire.MAX_SR_HZ:
        return float(value)
    return wire.sample_rate(value)


def _sample_array(samples: list[float | int], low: float, high: float) -> npt.NDArray[np.float64]:
    """The samples (all ``float`` or ``int``, at least one) as a read-only float64 array, or
    ``non_finite`` / ``out_of_range`` naming the first bad sample.

    Why ``argmin``/``argmax``: C methods, without the Python wrapper of ``array.min()`` or
    the set-up of a ufunc's reduction, each of which cost as much as the scan of a 100-sample
    packet. They return the index of the first NaN when there is one, else of the first
    extreme: the same values.
    """
    try:
        array = np.array(samples, dtype=np.float64)
    except OverflowError:
        raise _sample_out_of_range(samples, low, high) from None
    smallest, largest = array.item(array.argmin()), array.item(array.argmax())
    if not (math.isfinite(smallest) and math.isfinite(largest)):
        index = int(np.flatnonzero(~np.isfinite(array))[0])
        raise PayloadRejected(
            RejectReason.NON_FINITE, f"samples[{index}]: {array[index]} is not finite"
        )
    if smallest < low or largest > high:
        raise _sample_out_of_range(samples, low, high)
    array.setflags(write=False)
    return array


def _sample_out_of_range(samples: list[Any], low: float, high: float) -> PayloadRejected:
    index, value = next((i, s) for i, s in enumerate(samples) if not low <= s <= high)
    return PayloadRejected(
        RejectReason.OUT_OF_RANGE,
        f"samples[{index}]: {show(value)} m/s² outside [{low:g}, {high:g}] ({SEISMIC_QUANTITY})",
    )
