"""Seismic network coincidence: k stations triggering within Δt declare an event.

Fed with the per-station ``earthquake/trigger`` findings (:mod:`detectors.trigger`), which it
consumes (a single station's trigger never reaches the alert book), and with the per-station
``earthquake/intensity`` findings (:mod:`detectors.seismic`), which pass on unchanged. Stations
belong to the network named by their registry ``area`` (else ``seismic``). Parameters come from
the ``earthquake/event`` rule (``configs/ladders/seismic_network.yaml``): ``coincidence_k``,
``coincidence_window_s``, ``vp_km_s``, ``depth_km``, ``event_hold_s``.

Declaring
    When the onsets of at least ``k`` distinct stations fall within ``coincidence_window_s`` of
    each other, an event is declared at the event time of the ``k``-th onset. Onsets older than
    the window are forgotten as the onsets' own time moves on (no look-ahead, bounded state).
Origin
    A grid search over epicentres (1 km steps, the network's extent plus 30 km) with a fixed
    depth and P velocity: for each candidate the origin time is the mean of
    ``onset_i - distance_i / vp``; the candidate with the smallest residual spread wins. The
    evidence carries ``origin_ts``, the epicentre, the residual RMS and ``declared_after_origin_s``
    (the early-warning budget is counted from the origin). The search runs when the event is
    published (declared, graded up, ended), over the onsets it has then, not at every station
    that joins: at 300 stations it was the costliest step of a quake's second.
Grade
    The event ladder applied to the highest intensity any station of the network reported since
    ``coincidence_window_s`` before the first onset (``max_intensity``), at least blue (an event
    was declared). It only rises during the event; the finding is re-issued when it does.
End
    ``event_hold_s`` after the last trigger or intensity change, with no station still
    triggered, the event ends (``none``). Until then new onsets join it.

The event is published once per district that has stations in the network (``area`` = the
district), all with the same grade, so each district's duty officer is reached.

>>> from pathlib import Path
>>> from yujing.config import load_ladders
>>> from yujing.config.stations import Registry, StationSpec
>>> from yujing.contracts import Finding, Grade, Hazard, Kind
>>> book = load_ladders(Path(__file__).parents[1] / "configs" / "ladders")
>>> sites = [StationSpec(f"S{i}", "", Kind.SEISMIC, "d1", 40.0 + i / 20, 116.3, 1.0,
...                      area="net") for i in range(3)]
>>> net = SeismicNetwork(Registry.from_specs(sites), book.get(Hazard.EARTHQUAKE, "event"))
>>> def trigger(i, t): return Finding(f"S{i}", "d1", Hazard.EARTHQUAKE, "trigger", Grade.BLUE,
...                                   t, value=6.0, threshold=5.0, station=f"S{i}")
>>> net.observe(trigger(0, 100.0)), net.observe(trigger(1, 100.9))   # consumed, no event yet
([], [])
>>> [(f.area, f.rule, f.grade.value) for f in net.observe(trigger(2, 101.7))]
[('d1', 'event', 'blue')]
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from detectors.ladder import Ladder, rung_reached
from yujing.contracts import ConfigError, Finding, Grade, Hazard, Kind

if TYPE_CHECKING:
    from yujing.config.ladders import RuleSpec
    from yujing.config.stations import Registry

__all__ = ["NetworkParams", "SeismicNetwork", "locate"]

TRIGGER_RULE = "trigger"
INTENSITY_RULE = "intensity"
EVENT_RULE = "event"
KM_PER_DEG = 111.195
GRID_STEP_KM = 1.0
GRID_MARGIN_KM = 30.0


@dataclass(frozen=True, slots=True)
class NetworkParams:
    coincidence_k: int
    coincidence_window_s: float
    vp_km_s: float
    depth_km: float
    event_hold_s: float

    @classmethod
    def from_rule(cls, spec: RuleSpec) -> NetworkParams:
        def number(name: str) -> float:
            value = spec.params.get(name)
            if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
                raise ConfigError(
                    f"rule {spec.rule!r}: param {name} must be a number > 0, got {value!r}"
                )
            return float(value)

        return cls(
            int(number("coincidence_k")),
            number("coincidence_window_s"),
            number("vp_km_s"),
            number("depth_km"),
            number("event_hold_s"),
        )


def locate(
    xy_km: np.ndarray[Any, np.dtype[np.float64]],
    onsets: Sequence[float],
    vp_km_s: float,
    depth_km: float,
) -> tuple[float, float, float, float]:
    """(x_km, y_km, origin_ts, rms_s) of the best grid epicentre for P onsets at stations
    ``xy_km`` (shape (n, 2), local km).

    >>> xy = np.array([[0.0, 0.0], [20.0, 0.0], [0.0, 20.0], [20.0, 20.0]])
    >>> source, depth = np.array([5.0, 8.0]), 10.0
    >>> onsets = 100.0 + np.hypot(np.linalg.norm(xy - source, axis=1), depth) / 6.0
    >>> [round(v, 2) for v in locate(xy, onsets.tolist(), 6.0, depth)]
    [5.0, 8.0, 100.0, 0.0]
    """
    times = np.asarray(onsets, dtype=np.float64)
    low = xy_km.min(axis=0) - GRID_MARGIN_KM
    high = xy_km.max(axis=0) + GRID_MARGIN_KM
    xs = np.arange(low[0], high[0] + GRID_STEP_KM / 2, GRID_STEP_KM)
    ys = np.arange(low[1], high[1] + GRID_STEP_KM / 2, GRID_STEP_KM)
    gx, gy = np.meshgrid(xs, ys)
    cx, cy = gx.ravel(), gy.ravel()  # m candidates
    origins = _origins(cx, cy, xy_km, times, vp_km_s, depth_km)  # (m, n)
    origin = origins.mean(axis=1)
    deviation = np.subtract(origins, origin[:, None], out=origins)
    deviation *= deviation
    spread = np.sqrt(np.mean(deviation, axis=1))
    best = int(np.argmin(spread))
    return float(cx[best]), float(cy[best]), float(origin[best]), float(spread[best])


def _origins(
    cx: np.ndarray[Any, np.dtype[np.float64]],
    cy: np.ndarray[Any, np.dtype[np.float64]],
    xy_km: np.ndarray[Any, np.dtype[np.float64]],
    times: np.ndarray[Any, np.dtype[np.float64]],
    vp_km_s: float,
    depth_km: float,
) -> np.ndarray[Any, np.dtype[np.float64]]:
    """``onset - travel time`` for each candidate epicentre (rows) and station (columns).

    Why written out: ``np.linalg.norm`` over an (m, n, 2) difference array cost 60 % of a
    location (m ~ 8,000 candidates) in temporaries. ``sqrt(dx·dx + dy·dy)`` is what norm
    computes for two components, and the arrays keep norm's (m, n) C order, so the later
    row means sum in the same order: the same bits, in 2 (m, n) buffers reused in place.
    """
    dx = cx[:, None] - xy_km[None, :, 0]
    dy = cy[:, None] - xy_km[None, :, 1]
    dx *= dx
    dy *= dy
    dx += dy
    distance = np.sqrt(dx, out=dx)
    travel = np.hypot(distance, depth_km, out=dy)
    travel /= vp_km_s
    return np.subtract(times[None, :], travel, out=travel)


@dataclass(slots=True)
class _Event:
    declared_ts: float
    members: dict[str, float]  # station -> onset
    max_intensity: float
    grade: Grade
    last_activity: float
    origin: dict[str, float] = field(default_factory=dict)


@dataclass(slots=True)
class _Network:
    stations: tuple[str, ...]
    districts: tuple[str, ...]
    onsets: dict[str, float] = field(default_factory=dict)  # recent onset per station
    triggered: set[str] = field(default_factory=set)
    intensities: dict[str, tuple[float, float]] = field(default_factory=dict)  # (value, ts)
    event: _Event | None = None


class SeismicNetwork:
    """Coincidence over every seismic network of a registry (see the module docstring)."""

    reads_kinds: frozenset[Kind] = frozenset()  # kinds whose readings update() uses

    def __init__(self, registry: Registry, rule: RuleSpec) -> None:
        self.params = NetworkParams.from_rule(rule)
        self.ladder: Ladder = rule.ladder
        members: dict[str, list[str]] = {}
        self._network_of: dict[str, str] = {}
        self._position: dict[str, tuple[float, float]] = {}
        self._district: dict[str, str] = {}
        for station in registry:
            if station.kind is not Kind.SEISMIC:
                continue
            name = station.area or "seismic"
            members.setdefault(name, []).append(station.id)
            self._network_of[station.id] = name
            self._position[station.id] = (station.lat, station.lon)
            self._district[station.id] = station.district
        self._networks = {
            name: _Network(tuple(ids), tuple(sorted({self._district[s] for s in ids})))
            for name, ids in sorted(members.items())
        }

    # -- AreaDetector --------------------------------------------------------------------------

    def observe(self, finding: Finding) -> list[Finding]:
        name = self._network_of.get(finding.station or "")
        if name is None or finding.hazard is not Hazard.EARTHQUAKE:
            return [finding]
        network = self._networks[name]
        station = finding.station or ""
        if finding.rule == TRIGGER_RULE:
            return self._trigger(name, network, station, finding)
        if finding.rule == INTENSITY_RULE and finding.grade is not Grade.UNKNOWN:
            return [finding, *self._intensity(name, network, station, finding)]
        return [finding]

    def update(self, reading: Any) -> list[Finding]:
        return []

    def advance(self, now: float) -> list[Finding]:
        out: list[Finding] = []
        for name, network in self._networks.items():
            event = network.event
            if event is None or network.triggered & set(event.members):
                continue
            if now - event.last_activity >= self.params.event_hold_s:
                network.event = None
                network.onsets.clear()
                out.extend(self._publish(name, network, event, Grade.NONE, now, None))
        return out

    # -- logic ---------------------------------------------------------------------------------

    def _trigger(
        self, name: str, network: _Network, station: str, finding: Finding
    ) -> list[Finding]:
        event = network.event
        if finding.grade is not Grade.BLUE:
            network.triggered.discard(station)
            if event is not None:
                event.last_activity = max(event.last_activity, finding.ts)
            return []  # consumed
        onset = finding.ts
        network.triggered.add(station)
        window = self.params.coincidence_window_s
        network.onsets[station] = onset
        for other, ts in list(network.onsets.items()):
            if ts < onset - window:
                del network.onsets[other]
        if event is not None:
            event.last_activity = max(event.last_activity, onset)
            if station not in event.members:
                event.members[station] = onset
                event.origin = {}  # located again when next published (a grid search: costly)
            return []
        recent = {s: ts for s, ts in network.onsets.items() if onset - window <= ts <= onset}
        if len(recent) < self.params.coincidence_k:
            return []
        first = min(recent.values())
        peak = max(
            (v for v, ts in network.intensities.values() if ts >= first - window),
            default=1.0,
        )
        grade = self._grade(peak)
        event = _Event(onset, dict(recent), peak, grade, onset, self._origin(recent))
        network.event = event
        return self._publish(name, network, event, grade, onset, onset)

    def _intensity(
        self, name: str, network: _Network, station: str, finding: Finding
    ) -> list[Finding]:
        value = max(
            float(finding.value or 1.0), float(finding.evidence.get("packet_intensity", 1.0))
        )
        network.intensities[station] = (value, finding.ts)
        event = network.event
        if event is None:
            return []
        event.last_activity = max(event.last_activity, finding.ts)
        if value <= event.max_intensity:
            return []
        event.max_intensity = value
        grade = self._grade(value)
        if grade.rank <= event.grade.rank:
            return []
        event.grade = grade
        return self._publish(name, network, event, grade, finding.ts, finding.source_ts)

    def _grade(self, intensity: float) -> Grade:
        rung = rung_reached(self.ladder, {self.ladder.quantity: intensity})
        grade = Grade.NONE if rung is None else rung.grade
        return grade if grade.rank >= Grade.BLUE.rank else Grade.BLUE

    def _origin(self, members: dict[str, float]) -> dict[str, float]:
        stations = sorted(members)
        lat0 = float(np.mean([self._position[s][0] for s in stations]))
        lon0 = float(np.mean([self._position[s][1] for s in stations]))
        scale = math.cos(math.radians(lat0))
        xy = np.array(
            [
                [
                    (self._position[s][1] - lon0) * KM_PER_DEG * scale,
                    (self._position[s][0] - lat0) * KM_PER_DEG,
                ]
                for s in stations
            ]
        )
        x, y, origin, rms = locate(
            xy, [members[s] for s in stations], self.params.vp_km_s, self.params.depth_km
        )
        return {
            "origin_ts": origin,
            "epicentre_lat": lat0 + y / KM_PER_DEG,
            "epicentre_lon": lon0 + x / (KM_PER_DEG * scale),
            "rms_s": rms,
        }

    def _publish(
        self,
        name: str,
        network: _Network,
        event: _Event,
        grade: Grade,
        ts: float,
        source_ts: float | None,
    ) -> list[Finding]:
        rung = self.ladder.rung_for(grade)
        threshold = None if rung is None or not grade.is_warning else rung.enter
        value = event.max_intensity if grade.is_warning else None
        if threshold is not None and value is not None and value < threshold:
            threshold = None  # blue for a declared event below the blue rung
        if not event.origin:
            event.origin = self._origin(event.members)
        origin = dict(event.origin)
        evidence = {
            "network": name,
            "stations": sorted(event.members),
            "onsets": dict(sorted(event.members.items())),
            "max_intensity": event.max_intensity,
            "declared_ts": event.declared_ts,
            **origin,
        }
        if "origin_ts" in origin:
            evidence["declared_after_origin_s"] = event.declared_ts - origin["origin_ts"]
        if grade is Grade.NONE:
            message = f"earthquake event over ({len(event.members)} stations triggered)"
        else:
            message = (
                f"earthquake: {len(event.members)} stations triggered within "
                f"{self.params.coincidence_window_s:g} s; highest intensity "
                f"{event.max_intensity:.1f} ({grade.value})"
            )
        return [
            Finding(
                area=district,
                district=district,
                hazard=Hazard.EARTHQUAKE,
                rule=EVENT_RULE,
                grade=grade,
                ts=ts,
                value=value,
                threshold=threshold,
                quantity="intensity",
                station=None,
                message=message,
                evidence=evidence,
                source_ts=source_ts,
            )
            for district in network.districts
        ]

    # -- snapshots -----------------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, n in self._networks.items():
            e = n.event
            out[name] = {
                "onsets": dict(n.onsets),
                "triggered": sorted(n.triggered),
                "intensities": {s: list(v) for s, v in n.intensities.items()},
                "event": None
                if e is None
                else {
                    "declared_ts": e.declared_ts,
                    "members": dict(e.members),
                    "max_intensity": e.max_intensity,
                    "grade": e.grade.value,
                    "last_activity": e.last_activity,
                    "origin": dict(e.origin),
                },
            }
        return out

    def restore(self, state: dict[str, Any]) -> None:
        for name, saved in state.items():
            n = self._networks.get(name)
            if n is None:
                continue
            n.onsets = {s: float(t) for s, t in saved["onsets"].items()}
            n.triggered = set(saved["triggered"])
            n.intensities = {s: (float(v[0]), float(v[1])) for s, v in saved["intensities"].items()}
            e = saved["event"]
            n.event = (
                None
                if e is None
                else _Event(
                    e["declared_ts"],
                    {s: float(t) for s, t in e["members"].items()},
                    float(e["max_intensity"]),
                    Grade(e["grade"]),
                    float(e["last_activity"]),
                    {k: float(v) for k, v in e["origin"].items()},
                )
            )
