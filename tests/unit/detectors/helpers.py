"""Builders for detector tests: stations, readings and packets on the project's real ladders."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from detectors.base import Detector
from detectors.station import StationDetector
from yujing.config import LadderBook, load_ladders
from yujing.config.ladders import RuleSpec
from yujing.config.stations import StationSpec
from yujing.contracts import Finding, Grade, Kind, Reading, Waveform

REPO = Path(__file__).resolve().parents[3]
BOOK: LadderBook = load_ladders(REPO / "configs" / "ladders")
DISTRICT = "d1"

RIVER_PARAMS = {"warning_level_m": 10.0, "guaranteed_level_m": 11.5, "record_level_m": 12.3}
TANK_PARAMS = {
    "pressure_high_kpa": 300.0,
    "pressure_highhigh_kpa": 350.0,
    "temp_high_c": 50.0,
    "temp_highhigh_c": 60.0,
}


def station(
    kind: Kind,
    station_id: str = "S1",
    *,
    interval_s: float = 60.0,
    thresholds: dict[str, dict[Grade, float]] | None = None,
    **params: float | str,
) -> StationSpec:
    if kind is Kind.WATER_LEVEL:
        params = {**RIVER_PARAMS, **params}
    if kind is Kind.CHEM:
        params = {**TANK_PARAMS, **params}
    return StationSpec(
        station_id,
        "",
        kind,
        DISTRICT,
        39.9,
        116.4,
        interval_s,
        thresholds=thresholds or {},
        params=params,
    )


def rules(spec: StationSpec, of: type | None = None) -> list[RuleSpec]:
    """The station's rules from ``configs/ladders``, resolved as the runtime does; with ``of``,
    only those the factory gives to that detector class."""
    from detectors.factory import REGISTRY

    resolved = BOOK.for_station(spec)
    if of is None:
        return resolved
    return [r for r in resolved if REGISTRY.get((r.hazard, r.rule)) is of]


def reading(spec: StationSpec, ts: float, seq: int, **values: float) -> Reading:
    return Reading(spec.id, spec.kind, spec.district, ts, seq, values)


def packet(
    spec: StationSpec,
    channel: str,
    t0: float,
    samples: Sequence[float] | npt.NDArray[np.float64],
    seq: int,
    sr_hz: float = 100.0,
) -> Reading:
    array = np.array(samples, dtype=np.float64)
    return Reading(
        spec.id, spec.kind, spec.district, t0, seq, {}, waveform=Waveform(channel, sr_hz, t0, array)
    )


def feed(detector: Detector, readings: Iterable[Reading]) -> list[Finding]:
    out: list[Finding] = []
    for r in readings:
        out.extend(detector.update(r))
    return out


Event = tuple[str, Any]  # ("r", Reading) or ("t", now)


def play(detector: Detector, events: Iterable[Event]) -> list[Finding]:
    out: list[Finding] = []
    for what, item in events:
        out.extend(detector.update(item) if what == "r" else detector.advance(item))
    return out


def play_beside_the_gates(
    fast: StationDetector,
    full: StationDetector,
    events: Iterable[Event],
    state: Callable[[dict[str, Any]], Any] = lambda snapshot: snapshot,
) -> tuple[list[Finding], list[Finding]]:
    """Play ``events`` through ``fast`` (its own ``update``, a fast path) and ``full`` (the
    general path through the gates, :meth:`StationDetector.update`); their states, as
    ``state`` sees the snapshots, must agree after every event. Returns both findings."""
    fast_out: list[Finding] = []
    full_out: list[Finding] = []
    for what, item in events:
        if what == "r":
            fast_out.extend(fast.update(item))
            full_out.extend(StationDetector.update(full, item))
        else:
            fast_out.extend(fast.advance(item))
            full_out.extend(full.advance(item))
        assert state(fast.snapshot()) == state(full.snapshot())
    return fast_out, full_out


def changes(findings: Iterable[Finding], rule: str | None = None) -> list[tuple[Any, ...]]:
    """(ts, rule, grade, value, threshold) per finding, values rounded for stable comparison."""
    return [
        (
            round(f.ts, 6),
            f.rule,
            f.grade.value,
            None if f.value is None else round(f.value, 6),
            f.threshold,
        )
        for f in findings
        if rule is None or f.rule == rule
    ]
