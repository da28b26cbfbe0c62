"""Our time-series schema: what a :class:`~yujing.pipeline.StepResult` becomes in InfluxDB line
protocol, one function per measurement (the catalogue with every tag and field: docs/storage.md).

Plain functions over the contract types; no I/O, no clock (times are passed in). The writer
(:mod:`yujing.storage.writer`) and the tests that load the dashboards' database use the same
functions, so the dashboards are tested against exactly what the runtime writes.

Timestamps are epoch **milliseconds** (write with precision ``ms``). Every number the pipeline
measured is written as a float, every count as an integer, so a field keeps one type for ever
(InfluxDB refuses a point whose field type differs from the one already stored).

>>> from yujing.contracts import Kind, Reading
>>> reading_line(Reading("HD-RN-001", Kind.RAIN, "haidian", 1700000000.5, 7, {"rain_mm": 2}))
'reading,station=HD-RN-001,kind=rain,district=haidian rain_mm=2.0,seq=7i 1700000000500'
>>> escape_tag("a b,c=d")
'a\\\\ b\\\\,c\\\\=d'
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from yujing.config.ladders import RuleSpec
from yujing.config.stations import StationSpec
from yujing.contracts import AlertState, Finding, Grade, Notice, Reading

__all__ = [
    "MEASUREMENTS",
    "StationState",
    "escape_tag",
    "finding_line",
    "notice_line",
    "reading_line",
    "result_lines",
    "station_line",
    "threshold_lines",
]

#: Measurement names, in the order docs/storage.md lists them.
MEASUREMENTS = ("reading", "derived", "alert", "station", "threshold")

_TAG = str.maketrans({",": "\\,", "=": "\\=", " ": "\\ ", "\n": " ", "\r": " "})
_STRING = str.maketrans({'"': '\\"', "\\": "\\\\", "\n": " ", "\r": " "})
_RESERVED = frozenset({"value", "threshold", "grade_rank", "seq", "lat", "lon"})


def escape_tag(text: str) -> str:
    """A tag key, tag value or field key, escaped (``,``, ``=`` and space; newlines dropped)."""
    return text.translate(_TAG)


def _ms(ts: float) -> int:
    return round(ts * 1000.0)


def _float(value: float) -> str | None:
    number = float(value)
    return repr(number) if math.isfinite(number) else None


def _string(text: str) -> str:
    return '"' + text.translate(_STRING) + '"'


def _tags(pairs: Iterable[tuple[str, str | None]]) -> str:
    return "".join(f",{key}={escape_tag(value)}" for key, value in pairs if value)


def _line(measurement: str, tags: str, fields: Sequence[str], ts_ms: int) -> str | None:
    if not fields:
        return None  # a point without fields is not a point
    return f"{measurement}{tags} {','.join(fields)} {ts_ms}"


def reading_line(reading: Reading, suspect: str | None = None) -> str | None:
    """``reading``: one sensor message. Tags ``station``, ``kind``, ``district`` (``quality``
    when the sensor flagged it, ``suspect`` with the quality gate's reasons while the station is
    judged suspect, ``channel`` for seismic packets); fields: every value (float), ``seq``,
    ``lag_s`` (arrival − event time) and for a waveform ``peak_ms2`` (largest absolute sample),
    ``sr_hz``, ``samples``."""
    fields: list[str] = []
    for name, value in reading.values.items():
        number = _float(value)
        if number is not None:
            fields.append(f"{escape_tag(name)}={number}")
    fields.append(f"seq={int(reading.seq)}i")
    if reading.received > 0.0:
        lag = _float(reading.received - reading.ts)
        if lag is not None:
            fields.append(f"lag_s={lag}")
    channel = None
    wave = reading.waveform
    if wave is not None:
        channel = wave.channel
        if wave.samples.size:
            peak = _float(float(np.max(np.abs(wave.samples))))
            if peak is not None:
                fields.append(f"peak_ms2={peak}")
        fields.append(f"sr_hz={float(wave.sr_hz)!r}")
        fields.append(f"samples={int(wave.samples.size)}i")
    tags = _tags(
        (
            ("station", reading.station),
            ("kind", reading.kind.value),
            ("district", reading.district),
            ("quality", reading.quality),
            ("suspect", suspect),
            ("channel", channel),
        )
    )
    return _line("reading", tags, fields, _ms(reading.ts))


def _evidence_fields(evidence: Mapping[str, Any]) -> dict[str, str]:
    """Numbers (float) and flags (bool) of a finding's evidence; one nested level of numbers
    (rain ``totals_mm``) is flattened to its inner names. Text and deeper nesting are left out."""
    out: dict[str, str] = {}

    def add(key: str, value: Any, prefix: str) -> None:
        name = f"{prefix}{key}" if key in _RESERVED else key
        if isinstance(value, bool):
            out.setdefault(escape_tag(name), "true" if value else "false")
        elif isinstance(value, int | float):
            number = _float(value)
            if number is not None:
                out.setdefault(escape_tag(name), number)

    for key, value in evidence.items():
        if isinstance(value, Mapping):
            for inner, nested in value.items():
                if not isinstance(nested, bool):
                    add(str(inner), nested, f"{key}_")
        else:
            add(str(key), value, "evidence_")
    return out


def finding_line(finding: Finding, position: tuple[float, float] | None = None) -> str | None:
    """``derived``: a detector's judgement with the value behind it (rain window totals, rate of
    rise, STA/LTA, PGA and intensity, …). Tags ``station``, ``area``, ``district``, ``hazard``,
    ``rule``, ``quantity``, ``grade``; fields ``value``, ``threshold``, ``grade_rank``, the
    evidence's numbers (``rain_3h_mm``, ``pga_ms2``, ``eta_s``, …) and, given the station's
    ``position``, ``lat`` and ``lon`` (so a map can show intensities without a join)."""
    fields: list[str] = []
    if position is not None:
        fields.append(f"lat={float(position[0])!r}")
        fields.append(f"lon={float(position[1])!r}")
    if finding.value is not None and (value := _float(finding.value)) is not None:
        fields.append(f"value={value}")
    if finding.threshold is not None and (threshold := _float(finding.threshold)) is not None:
        fields.append(f"threshold={threshold}")
    fields.append(f"grade_rank={finding.grade.rank}i")
    fields.extend(f"{key}={value}" for key, value in _evidence_fields(finding.evidence).items())
    tags = _tags(
        (
            ("station", finding.station),
            ("area", finding.area),
            ("district", finding.district),
            ("hazard", finding.hazard.value),
            ("rule", finding.rule),
            ("quantity", finding.quantity),
            ("grade", finding.grade.value),
        )
    )
    return _line("derived", tags, fields, _ms(finding.ts))


def notice_line(notice: Notice, ack_s: float | None = None, officer: str = "") -> str:
    """``alert``: one alert transition. Tags ``area``, ``hazard``, ``rule``, ``district``,
    ``grade``, ``previous_grade``, ``state``, ``reason``, ``drill``; fields ``key``, ``version``,
    ``grade_rank``, ``active`` (1 unless resolved), ``status`` (the state again, as a field, so
    ``last()`` can return it), ``value``, ``threshold``, ``quantity``, ``message``, ``stations``,
    ``ack_s`` (page → acknowledgement) on acknowledgements and ``officer`` (who acknowledged, or
    whose silence made the transition) on transitions an officer's command made."""
    key = notice.key
    active = notice.state is not AlertState.RESOLVED and notice.grade is not Grade.NONE
    fields = [
        f"key={_string(str(key))}",
        f"version={int(notice.version)}i",
        f"grade_rank={notice.grade.rank}i",
        f"active={1 if active else 0}i",
        f"status={_string(notice.state.value)}",
        f"message={_string(notice.message)}",
        f"quantity={_string(notice.quantity)}",
        f"stations={_string(' '.join(notice.stations))}",
    ]
    if officer:
        fields.append(f"officer={_string(officer)}")
    for name, number in (
        ("value", notice.value),
        ("threshold", notice.threshold),
        ("ack_s", ack_s),
    ):
        if number is not None and (text := _float(number)) is not None:
            fields.append(f"{name}={text}")
    tags = _tags(
        (
            ("area", key.area),
            ("hazard", key.hazard.value),
            ("rule", key.rule),
            ("district", notice.district),
            ("grade", notice.grade.value),
            ("previous_grade", notice.previous_grade.value),
            ("state", notice.state.value),
            ("reason", notice.reason.value),
            ("drill", "true" if notice.is_drill else "false"),
        )
    )
    line = _line("alert", tags, fields, _ms(notice.ts))
    assert line is not None  # fields is never empty
    return line


@dataclass(frozen=True, slots=True)
class StationState:
    """What the city map shows for one station: its highest active grade and how complete its
    data was over the last period (None before a full period has passed)."""

    grade: Grade = Grade.NONE
    active_alerts: int = 0
    completeness: float | None = None


def station_line(station: StationSpec, state: StationState, ts: float) -> str:
    """``station``: position and current state of one station, for the map. Tags ``station``,
    ``kind``, ``district``, ``area``; fields ``lat``, ``lon``, ``name``, ``grade`` (text),
    ``grade_rank``, ``active_alerts``, ``interval_s`` and ``completeness`` (0–1)."""
    fields = [
        f"lat={float(station.lat)!r}",
        f"lon={float(station.lon)!r}",
        f"name={_string(station.name or station.id)}",
        f"grade={_string(state.grade.value)}",
        f"grade_rank={state.grade.rank}i",
        f"active_alerts={int(state.active_alerts)}i",
        f"interval_s={float(station.interval_s)!r}",
    ]
    if state.completeness is not None and (text := _float(state.completeness)) is not None:
        fields.append(f"completeness={text}")
    tags = _tags(
        (
            ("station", station.id),
            ("kind", station.kind.value),
            ("district", station.district),
            ("area", station.area),
        )
    )
    line = _line("station", tags, fields, _ms(ts))
    assert line is not None
    return line


def threshold_lines(station: StationSpec, rules: Sequence[RuleSpec], ts: float) -> list[str]:
    """``threshold``: the ladder lines of one station (its own overrides and station-relative
    levels resolved). Tags ``station``, ``district``, ``hazard``, ``rule``, ``quantity``,
    ``grade``; field ``enter``."""
    out: list[str] = []
    ts_ms = _ms(ts)
    for spec in rules:
        ladder = spec.ladder
        for rung in ladder.rungs:
            enter = _float(rung.enter)
            if enter is None:
                continue
            tags = _tags(
                (
                    ("station", station.id),
                    ("district", station.district),
                    ("hazard", spec.hazard.value),
                    ("rule", ladder.rule),
                    ("quantity", ladder.quantity_of(rung)),
                    ("grade", rung.grade.value),
                )
            )
            out.append(f"threshold{tags} enter={enter} {ts_ms}")
    return out


def result_lines(
    readings: Iterable[Reading],
    findings: Iterable[Finding],
    positions: Mapping[str, tuple[float, float]] | None = None,
) -> list[str]:
    """Lines of readings and findings exactly as the writer encodes them (tests, backfills);
    ``positions`` maps station id → (lat, lon). Notices need the writer's
    :class:`~yujing.storage.board.StationBoard` for ``ack_s``: use :func:`notice_line`."""
    positions = positions or {}
    out = [line for line in map(reading_line, readings) if line is not None]
    for finding in findings:
        where = positions.get(finding.station) if finding.station else None
        line = finding_line(finding, where)
        if line is not None:
            out.append(line)
    return out
