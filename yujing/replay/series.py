"""Series for the plots: which stations are "key", what they measured, what was true, and the
grade notified over time. Readings are made again for the few stations plotted (a scenario is
deterministic; a recording is read again), so the replay itself keeps no readings."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from detectors.rain import RAIN_WINDOWS_S
from simulators import SensorSimulator
from simulators.episodes import TrueSeries
from simulators.noise import FloatArray
from simulators.recording import Recording
from yujing.config.ladders import RuleSpec
from yujing.contracts import AlertKey, Grade, NoticeReason
from yujing.replay.plots import Series
from yujing.replay.recorder import NoticeRecord

__all__ = ["grade_steps", "key_alerts", "observed_series", "raw_points", "true_series"]

_CHANGES = {
    NoticeReason.FIRED,
    NoticeReason.UPGRADED,
    NoticeReason.DOWNGRADED,
    NoticeReason.RESOLVED,
}
_HORIZONTAL = ("N", "E", "1", "2")


def grade_steps(records: Sequence[NoticeRecord], key: AlertKey) -> list[tuple[float, Grade]]:
    return [
        (r.sent, r.notice.grade)
        for r in records
        if r.notice.key == key and r.notice.reason in _CHANGES and not r.notice.is_drill
    ]


def key_alerts(
    records: Sequence[NoticeRecord], stations: Mapping[str, Any], limit: int
) -> list[AlertKey]:
    """Up to ``limit`` station alerts with the highest grades reached (one per hazard first,
    then by grade and time), keys whose area is a registered station."""
    best: dict[AlertKey, tuple[int, float]] = {}
    for record in records:
        key = record.notice.key
        if key.area not in stations or key.hazard.value == "sensor":
            continue
        rank = record.notice.grade.rank
        if key not in best or rank > best[key][0]:
            best[key] = (rank, record.sent)
    ranked = sorted(best, key=lambda k: (-best[k][0], best[k][1], str(k)))
    chosen: list[AlertKey] = []
    for key in ranked:  # the top alert of each hazard first
        if all(c.hazard is not key.hazard for c in chosen):
            chosen.append(key)
    chosen += [k for k in ranked if k not in chosen]
    return chosen[:limit]


def raw_points(
    simulator: SensorSimulator | None, recording: Recording | None, station: str
) -> list[tuple[float, dict[str, float], str | None, list[float] | None]]:
    """(event time, values, channel, samples) of every message of one station."""
    if simulator is not None:
        readings = simulator.readings(
            simulator.first_arrival, simulator.end + 1.0, stations={station}
        )
        return [
            (
                r.ts,
                dict(r.values),
                None if r.waveform is None else r.waveform.channel,
                None if r.waveform is None else r.waveform.samples.tolist(),
            )
            for r in readings
        ]
    points = []
    assert recording is not None
    suffix = f"/{station}"
    for row in recording.rows:
        if not row.topic.endswith(suffix):
            continue
        try:
            body = json.loads(row.payload)
            ts = body["ts"] / 1000.0 if isinstance(body["ts"], int) else float(body["ts"])
            values = {k: float(v) for k, v in body.get("values", {}).items()}
            points.append((ts, values, body.get("channel"), body.get("samples")))
        except (ValueError, KeyError, TypeError):
            continue  # what ingest refused is not plotted
    points.sort(key=lambda p: p[0])
    return points


def observed_series(
    points: Sequence[tuple[float, dict[str, float], str | None, list[float] | None]],
    spec: RuleSpec,
) -> dict[str, Series]:
    """The ladder's quantities as measured: raw values, rain window totals, packet intensity."""
    ladder = spec.ladder
    wanted = {ladder.quantity_of(r) for r in ladder.rungs}
    out: dict[str, Series] = {}
    if wanted & set(RAIN_WINDOWS_S):
        times = np.array([p[0] for p in points if "rain_mm" in p[1]])
        rain = np.array([p[1]["rain_mm"] for p in points if "rain_mm" in p[1]])
        cumulative = np.cumsum(rain)
        for quantity in wanted & set(RAIN_WINDOWS_S):
            before = np.searchsorted(times, times - RAIN_WINDOWS_S[quantity], side="right")
            totals = cumulative - np.where(before > 0, cumulative[before - 1], 0.0)
            out[quantity] = (times.tolist(), totals.tolist())
    if "intensity" in wanted:
        slope = float(spec.params.get("intensity_slope", 3.17))
        intercept = float(spec.params.get("intensity_intercept", 6.59))
        peaks: dict[float, float] = {}
        for ts, _, channel, samples in points:
            if channel and samples and channel[-1] in _HORIZONTAL:
                peaks[ts] = max(peaks.get(ts, 0.0), max(abs(s) for s in samples))
        times_list = sorted(peaks)
        out["intensity"] = (
            times_list,
            [
                min(12.0, max(1.0, slope * math.log10(max(peaks[t], 1e-9)) + intercept))
                for t in times_list
            ],
        )
    for quantity in wanted:
        values = [(p[0], p[1][quantity]) for p in points if quantity in p[1]]
        if values:
            out[quantity] = ([t for t, _ in values], [v for _, v in values])
    return out


def true_series(simulator: SensorSimulator, station: str, spec: RuleSpec) -> dict[str, Series]:
    registry_spec = simulator.registry.get(station)
    if registry_spec is None or registry_spec.kind.value == "seismic":
        return {}
    step = 60.0
    first = simulator.start - simulator.scenario.lead_in_for(registry_spec.kind)
    grid: FloatArray = first + step * np.arange(
        math.floor((simulator.end - first) / step) + 1, dtype=np.float64
    )
    series = TrueSeries(simulator, registry_spec, grid)
    out: dict[str, Series] = {}
    for quantity in {spec.ladder.quantity_of(r) for r in spec.ladder.rungs}:
        values = series.value(quantity, spec)
        if values is not None:
            out[quantity] = (grid.tolist(), values.tolist())
    return out
