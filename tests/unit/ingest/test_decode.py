"""Good messages of every kind decode to exactly the expected Reading."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from ingest import EXAMPLES, Decoder, wire
from ingest.decode import SEISMIC_QUANTITY
from tests.unit.ingest.helpers import NOW, STATIONS, payload
from yujing.config import QuantityLimits, Registry
from yujing.contracts import ConfigError, Kind, PayloadRejected, Reading, RejectReason

T = 1_784_613_900.0  # 2026-07-21T06:05:00Z

EXPECTED = {
    Kind.RAIN: Reading("HD-R01", Kind.RAIN, "haidian", T, 1042, {"rain_mm": 2.5}, received=NOW),
    Kind.WATER_LEVEL: Reading(
        "HD-W01", Kind.WATER_LEVEL, "haidian", T, 77,
        {"level_m": 41.37, "flow_m3s": 212.0}, quality="ok", received=NOW,
    ),
    Kind.PONDING: Reading(
        "HD-P01", Kind.PONDING, "haidian", T, 9, {"depth_cm": 18.0}, received=NOW
    ),
    Kind.GAS: Reading(
        "CY-G01", Kind.GAS, "chaoyang", T + 0.25, 310,
        {"ch4_pct_lel": 12.5, "pressure_kpa": 101.2}, received=NOW,
    ),
    Kind.CHEM: Reading(
        "CY-C01", Kind.CHEM, "chaoyang", T, 5,
        {"nh3_ppm": 3.0, "h2s_ppm": 0.4, "temp_c": 24.5}, received=NOW,
    ),
}  # fmt: skip


@pytest.mark.parametrize("kind", list(EXPECTED))
def test_plain_examples_decode_exactly(decoder: Decoder, kind: Kind) -> None:
    topic, body = EXAMPLES[kind]
    reading = decoder.decode(topic, payload(body), NOW)
    assert reading == EXPECTED[kind]
    assert all(type(v) is float for v in reading.values.values())


def test_seismic_example_decodes_to_a_waveform(decoder: Decoder) -> None:
    topic, body = EXAMPLES[Kind.SEISMIC]
    reading = decoder.decode(topic, payload(body), NOW, received=NOW + 0.5)
    assert (reading.station, reading.kind, reading.district) == ("FS-S01", Kind.SEISMIC, "fangshan")
    assert (reading.ts, reading.seq, reading.values, reading.quality) == (T, 88120, {}, None)
    assert reading.received == NOW + 0.5
    waveform = reading.waveform
    assert waveform is not None
    assert (waveform.channel, waveform.sr_hz, waveform.t0) == ("HNZ", 100.0, T)
    assert waveform.samples.dtype == np.float64
    np.testing.assert_array_equal(waveform.samples, [0.0012, -0.0031, 0.0020, 0.0004])
    assert not waveform.samples.flags.writeable
    assert waveform.end == T + 0.04


def test_seismic_ts_differs_from_t0_when_given(decoder: Decoder) -> None:
    topic, body = EXAMPLES[Kind.SEISMIC]
    body = {**body, "ts": 1_784_613_901_000, "quality": "ok"}
    reading = decoder.decode(topic, payload(body), NOW)
    assert reading.ts == T + 1
    assert reading.waveform is not None and reading.waveform.t0 == T
    assert reading.quality == "ok"


def test_seismic_null_ts_means_t0_and_int_samples_become_floats(decoder: Decoder) -> None:
    topic, body = EXAMPLES[Kind.SEISMIC]
    reading = decoder.decode(topic, payload({**body, "ts": None, "samples": [0, 1, -2]}), NOW)
    assert reading.ts == T
    assert reading.waveform is not None
    np.testing.assert_array_equal(reading.waveform.samples, [0.0, 1.0, -2.0])


@pytest.mark.parametrize(
    ("ts", "expected"),
    [
        ("2026-07-21T14:05:00+08:00", T),
        ("2026-07-21T06:05:00Z", T),
        ("2026-07-21t06:05:00z", T),
        ("2026-07-21 06:05:00.125Z", T + 0.125),
        ("2026-07-21T06:04:59.999999999-00:00", T - 0.000001),
        (1_784_613_900_123, T + 0.123),
    ],
)
def test_timestamp_forms(decoder: Decoder, ts: object, expected: float) -> None:
    body = {"station": "HD-R01", "ts": ts, "seq": 1, "values": {"rain_mm": 0}}
    reading = decoder.decode("yujing/v1/haidian/rain/HD-R01", payload(body), NOW)
    assert reading.ts == pytest.approx(expected, abs=1e-6)


def test_unknown_quantities_are_dropped_when_a_known_one_remains(decoder: Decoder) -> None:
    body = {"station": "HD-R01", "ts": 1_784_613_900_000, "seq": 3,
            "values": {"rain_mm": 1, "battery_v": 3.6, "rain_mm_total": -5}}  # fmt: skip
    reading = decoder.decode("yujing/v1/haidian/rain/HD-R01", payload(body), NOW)
    assert reading.values == {"rain_mm": 1.0}


def test_received_defaults_to_now(decoder: Decoder) -> None:
    topic, body = EXAMPLES[Kind.RAIN]
    assert decoder.decode(topic, payload(body), NOW).received == NOW
    body = {**body, "seq": 1043}
    assert decoder.decode(topic, payload(body), NOW, received=123.0).received == 123.0


def test_custom_prefix(registry: Registry, limits: QuantityLimits) -> None:
    decoder = Decoder(registry, limits, prefix="city/v1")
    _, body = EXAMPLES[Kind.RAIN]
    assert decoder.decode("city/v1/haidian/rain/HD-R01", payload(body), NOW).seq == 1042


def test_a_kind_without_limits_is_a_config_error(limits: QuantityLimits) -> None:
    empty = QuantityLimits({Kind.RAIN: limits.for_kind(Kind.RAIN)})
    with pytest.raises(ConfigError, match="no limits for kind water_level"):
        Decoder(Registry.from_specs(STATIONS), empty)
    seismic = QuantityLimits({**limits.limits, Kind.SEISMIC: {"velocity_ms": limits.for_kind(
        Kind.SEISMIC)[SEISMIC_QUANTITY]}})  # fmt: skip
    with pytest.raises(ConfigError, match="kind seismic needs 'accel_ms2' limits"):
        Decoder(Registry.from_specs(STATIONS), seismic)


DROP = object()  # a field left out
LATER = {RejectReason.FUTURE_TIMESTAMP, RejectReason.TOO_LATE, RejectReason.DUPLICATE}
BAD_FIELDS: dict[str, list[Any]] = {
    "t0": [None, True, -5, 10**20, 1.5e12, "yesterday", "2026-07-21T06:05:00Z", [1], DROP],
    "ts": [True, 1.5, "2026-07-21T06:05:00+08:00", "soon", 12],
    "seq": [-1, 1.0, True, "7", None, DROP],
    "quality": [3, True, ["ok"], "suspect"],
    "channel": ["", "X" * 17, 5, None, "HNZ", DROP],
    "sr": [0, -100, 0.0, 1e9, True, "100", None, 200, 0.5, DROP],
    "station": ["FS-S02", 7, None, DROP],
    "extra": [1],
}


def wire_problem(body: dict[str, Any]) -> tuple[RejectReason, str] | None:
    """What the ``wire`` checkers, called one by one in the documented order, say about a
    seismic packet's fields and station (the decoder checks them inline: it must agree)."""
    try:
        wire.check_fields(body, wire.SEISMIC_FIELDS, wire.SEISMIC_REQUIRED, "seismic")
        wire.event_time(body["t0"], "t0")
        if body.get("ts") is not None:
            wire.event_time(body["ts"], "ts")
        wire.sequence_number(body["seq"])
        wire.quality_flag(body.get("quality"))
        wire.channel_code(body["channel"])
        wire.sample_rate(body["sr"])
    except PayloadRejected as exc:
        return exc.reason, exc.detail
    station = body["station"]
    if station == "FS-S01":
        return None
    if type(station) is not str:
        return RejectReason.MALFORMED, f"station: must be a string, got {wire.show(station)}"
    return (
        RejectReason.STATION_MISMATCH,
        f"body station {wire.show(station)} != topic station 'FS-S01'",
    )


@pytest.mark.parametrize("first", sorted(BAD_FIELDS))
def test_seismic_field_checks_say_what_the_wire_checkers_say(decoder: Decoder, first: str) -> None:
    """Each bad field alone, and with another bad one (which problem is named first)."""
    topic, example = EXAMPLES[Kind.SEISMIC]
    variants = [{first: value} for value in BAD_FIELDS[first]]
    variants += [
        {first: value, second: other}
        for value in BAD_FIELDS[first]
        for second in sorted(BAD_FIELDS)
        for other in BAD_FIELDS[second][:3]
    ]
    named = 0
    for n, bad in enumerate(variants):
        body = {k: v for k, v in {**example, "seq": n, **bad}.items() if v is not DROP}
        expected = wire_problem(body)
        try:
            got: tuple[RejectReason, str] | None = None
            decoder.decode(topic, payload(body), NOW)
        except PayloadRejected as exc:
            got = exc.reason, exc.detail
        if expected is None and got is not None and got[0] in LATER:
            continue  # the fields are fine; a later check (event time, history) refused it
        assert got == expected, body
        named += expected is not None
    assert named > 0


def test_integers_past_64_bits_are_judged_as_sent(decoder: Decoder) -> None:
    """The fast JSON parser reads such integers as floats; the decoder's verdict must not change:
    a huge seq is still an integer, a huge value is named with its digits."""
    topic, body = EXAMPLES[Kind.RAIN]
    reading = decoder.decode(topic, payload({**body, "seq": 2**64 + 5}), NOW)
    assert reading.seq == 2**64 + 5
    with pytest.raises(PayloadRejected) as refused:
        decoder.decode(topic, payload({**body, "seq": 1, "values": {"rain_mm": 10**21}}), NOW)
    assert refused.value.reason is RejectReason.OUT_OF_RANGE
    assert str(10**21) in refused.value.detail


def sample_array_before(samples: list[float | int], low: float, high: float) -> Any:
    """:func:`ingest.decode._sample_array` as it was, with the ufuncs' reductions."""
    import math

    from ingest.decode import _sample_out_of_range

    try:
        array = np.array(samples, dtype=np.float64)
    except OverflowError:
        raise _sample_out_of_range(samples, low, high) from None
    smallest, largest = np.minimum.reduce(array), np.maximum.reduce(array)
    if not (math.isfinite(smallest) and math.isfinite(largest)):
        index = int(np.flatnonzero(~np.isfinite(array))[0])
        raise PayloadRejected(
            RejectReason.NON_FINITE, f"samples[{index}]: {array[index]} is not finite"
        )
    if smallest < low or largest > high:
        raise _sample_out_of_range(samples, low, high)
    return array


@pytest.mark.parametrize("seed", range(3))
def test_sample_array_verdicts_are_those_of_the_reductions(seed: int) -> None:
    """argmin/argmax give the arrays and the refusals (reason and detail) the ufuncs'
    reductions gave: NaN and infinities anywhere, values at and past the limits, ints."""
    from ingest.decode import _sample_array

    rng = np.random.default_rng(seed)
    specials: list[float | int] = [math.nan, math.inf, -math.inf, 20.0, -20.0, 19.6, 0, 10**400]
    refused = 0
    for _ in range(3000):
        size = int(rng.choice([1, 3, 100]))
        samples: list[float | int] = np.round(rng.normal(size=size), 3).tolist()
        for _ in range(int(rng.choice([0, 0, 1, 2]))):
            samples[int(rng.integers(0, len(samples)))] = specials[int(rng.integers(0, 8))]
        try:
            want: Any = sample_array_before(samples, -19.6, 19.6)
        except PayloadRejected as exc:
            want = (exc.reason, exc.detail)
        try:
            got: Any = _sample_array(samples, -19.6, 19.6)
            assert not got.flags.writeable
        except PayloadRejected as exc:
            got = (exc.reason, exc.detail)
        if isinstance(want, tuple):
            refused += 1
            assert got == want, samples
        else:
            assert np.array_equal(got, want), samples
    assert refused > 300
