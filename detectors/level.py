"""One detector for instantaneous quantities and their trends, graded by ladders.

Serves the water level (``level``, ``level_m``; ``level_rise``, ``level_ahead``), ponding
(``depth``, ``depth_rise``), combustible gas (``ch4``, ``ch4_rise``), toxic gases (``nh3``,
``cl2``, ``h2s`` in ppm) and tank (``tank_pressure``, ``tank_temperature``, ``runaway``) rules;
they differ only by ladder (``configs/ladders``). Derived quantities (rates of rise, projected
values, runaway) and persistence (n of m) are defined in :mod:`detectors.trend`.

- A rule is evaluated only when a reading carries one of the raw quantities it depends on, so a
  chem station that measures only NH3 keeps its Cl2, H2S and tank rules ``unknown`` and emits
  nothing for them. A derived quantity that cannot be computed yet (too few readings in its
  window) leaves its rule ``unknown``.
- A late reading (older than the newest applied) describes the past: it is evaluated at the
  current evaluation time and may raise a grade or cancel a pending step-down, never lower a
  grade or start a dwell (see :mod:`detectors.station`). Shuffles within one tick are undone
  first by the ``seq`` hold, so they are not late. Trend windows take a late point at its own
  time.
- Rules with a rung relative to a station level (``level_ahead``) and the rise rules carry the
  projected time to reach the station's warning level in ``evidence["eta_s"]`` when the rule's
  param ``eta_to`` names that station param.
- ``advance`` only watches for silence: the grade of an instantaneous value changes with data.

>>> from pathlib import Path
>>> from yujing.config import load_ladders
>>> from yujing.config.stations import StationSpec
>>> from yujing.contracts import Kind, Reading
>>> station = StationSpec("G1", "", Kind.GAS, "d1", 0.0, 0.0, interval_s=10.0)
>>> book = load_ladders(Path(__file__).parents[1] / "configs" / "ladders")
>>> gas = LadderDetector(station, [r for r in book.for_station(station) if r.rule == "ch4"])
>>> def ch4(seq, value):
...     return [f.message for f in gas.update(
...         Reading("G1", Kind.GAS, "d1", 10.0 * seq, seq, {"ch4_pct_lel": value}))]
>>> ch4(1, 3.0), ch4(2, 3.0)              # 2 of 3 readings must agree: unknown until 2 came
([], ['CH4 3.0 %LEL below every rung (none)'])
>>> ch4(3, 27.5)                          # one reading at 27.5: not yet
[]
>>> ch4(4, 28.0)                          # two of the last three ≥ 25 %LEL
['CH4 27.5 %LEL ≥ 25 %LEL (orange)']
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from detectors.ladder import quantities
from detectors.station import StationDetector
from detectors.trend import Derivation, RateWindow, derivation, nth_largest
from yujing.contracts import ConfigError, Finding, Grade, Reading

if TYPE_CHECKING:  # imported for annotations only: yujing.config imports detectors.ladder
    from yujing.config.ladders import RuleSpec
    from yujing.config.stations import StationSpec

__all__ = ["LadderDetector"]

RISE_MIN_POINTS_DEFAULT = 3
AHEAD_S_DEFAULT = 3600.0


def _param(spec: RuleSpec, name: str, default: float | None = None) -> float:
    value = spec.params.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"rule {spec.rule!r}: param {name} must be a number, got {value!r}")
    return float(value)


class LadderDetector(StationDetector):
    """Instantaneous values (level, depth, gas concentration, tank pressure/temperature) and
    their trends (rate of rise, projection, runaway)."""

    family = "ladder"

    def __init__(self, station: StationSpec, rules: Sequence[RuleSpec]) -> None:
        super().__init__(station, rules)
        # derived quantity -> (its derivation, window_s, min points, ahead_s), per rule reading it
        self._derived: dict[str, tuple[Derivation, float, int, float]] = {}
        self._raw: set[str] = set()
        self._persist: dict[str, tuple[int, int]] = {}  # rule key -> (n, m)
        for spec, key, reads in self._plan:
            for q in reads:
                how = derivation(q)
                if how is None:
                    self._raw.add(q)
                    continue
                self._raw.update(how.raw)
                self._derived[q] = (
                    how,
                    _param(spec, "rise_window_s"),
                    int(_param(spec, "rise_min_points", RISE_MIN_POINTS_DEFAULT)),
                    _param(spec, "ahead_s", AHEAD_S_DEFAULT),
                )
            if "persist_n" in spec.params or "persist_m" in spec.params:
                n, m = int(_param(spec, "persist_n")), int(_param(spec, "persist_m"))
                if not 1 <= n <= m:
                    raise ConfigError(f"rule {spec.rule!r}: need 1 <= persist_n <= persist_m")
                self._persist[key] = (n, m)
        self._windows: dict[str, RateWindow] = {}  # f"{raw}@{window_s:g}"
        self._by_source: dict[tuple[str, float], RateWindow] = {}  # the same, keyed for lookup
        self._recent: dict[str, list[float]] = {key: [] for key in self._persist}

    def _check(self) -> None:
        for spec in self.rules:
            reads = quantities(spec.ladder)
            if any(derivation(q) is not None for q in reads) and "rise_window_s" not in spec.params:
                raise ConfigError(
                    f"station {self.station.id}: rule {spec.rule!r} reads a trend "
                    f"({', '.join(reads)}) and needs param rise_window_s"
                )
            if ("persist_n" in spec.params) and len(reads) != 1:
                raise ConfigError(
                    f"station {self.station.id}: rule {spec.rule!r}: persistence needs a ladder "
                    "reading one quantity"
                )

    def _inputs(self, spec: RuleSpec) -> frozenset[str]:
        raw: set[str] = set()
        for q in quantities(spec.ladder):
            how = derivation(q)
            raw.update((q,) if how is None else how.raw)
        return frozenset(raw)

    def _apply(self, reading: Reading, *, late: bool) -> list[Finding]:
        raw = {
            q: float(v) for q, v in reading.values.items() if q in self._raw and math.isfinite(v)
        }
        if not raw:
            return []
        at = self._at(reading.ts)
        for how, window_s, _, _ in self._derived.values():
            for q in how.raw:
                if q in raw:
                    self._window(q, window_s).add(reading.ts, raw[q])
        values: dict[str, float] = dict(raw)
        evidence: dict[str, Any] = {"late": True} if late else {}
        for name, (how, window_s, min_points, ahead_s) in self._derived.items():
            if raw.keys().isdisjoint(how.raw):
                continue
            value = self._derive(how, window_s, min_points, ahead_s, at)
            if value is not None:
                values[name] = value
        for window in self._windows.values():
            window.prune(at)
        return self._step(values, at, source_ts=reading.ts, late=late, evidence=evidence)

    def _window(self, raw: str, window_s: float) -> RateWindow:
        window = self._by_source.get((raw, window_s))
        if window is None:
            key = f"{raw}@{window_s:g}"
            window = self._windows.get(key)
            if window is None:
                window = self._windows[key] = RateWindow(window_s)
            self._by_source[raw, window_s] = window
        return window

    def _derive(
        self, how: Derivation, window_s: float, min_points: int, ahead_s: float, at: float
    ) -> float | None:
        if how.kind == "runaway":
            temp_rate = self._window("temp_c", window_s).slope_per_s(at, min_points)
            pressure_rate = self._window("pressure_kpa", window_s).slope_per_s(at, min_points)
            if temp_rate is None or pressure_rate is None:
                return None
            follows = pressure_rate * 60.0 >= self._pressure_follow
            return max(0.0, temp_rate * 60.0) if follows else 0.0
        window = self._window(how.raw[0], window_s)
        slope = window.slope_per_s(at, min_points)
        if slope is None:
            return None
        if how.kind == "rise":
            return slope * how.scale_s
        latest = window.latest(at)
        return None if latest is None else latest + max(0.0, slope) * ahead_s

    @property
    def _pressure_follow(self) -> float:
        for spec in self.rules:
            if "pressure_follow_kpa_per_min" in spec.params:
                return _param(spec, "pressure_follow_kpa_per_min")
        raise ConfigError(f"station {self.station.id}: runaway needs pressure_follow_kpa_per_min")

    def _rule_values(
        self, spec: RuleSpec, key: str, values: Mapping[str, float]
    ) -> Mapping[str, float] | None:
        persist = self._persist.get(key)
        if persist is None:
            return values
        n, m = persist
        quantity = spec.ladder.quantity
        recent = self._recent[key] = [*self._recent[key], values[quantity]][-m:]
        held = nth_largest(recent, n)
        if held is None:
            return None
        return {**values, quantity: held}

    def _finding(
        self,
        spec: RuleSpec,
        grade: Grade,
        previous: Grade,
        values: Mapping[str, float],
        at: float,
        source_ts: float | None,
        evidence: Mapping[str, Any],
    ) -> Finding:
        finding = super()._finding(spec, grade, previous, values, at, source_ts, evidence)
        target = spec.params.get("eta_to")
        if not isinstance(target, str) or not grade.is_warning:
            return finding
        eta = self._eta_s(spec, target, at)
        if eta is None:
            return finding
        level = self.station.params.get(target)
        return replace(
            finding,
            evidence={**finding.evidence, "eta_s": eta, "eta_to": target},
            message=f"{finding.message}; {target} {level} reached in {eta / 60.0:.0f} min "
            "at this rate",
        )

    def _eta_s(self, spec: RuleSpec, target: str, at: float) -> float | None:
        """Seconds until the raw value reaches the station param ``target`` at the current rate
        (0 when already there; None when not rising)."""
        level = self.station.params.get(target)
        if not isinstance(level, int | float):
            return None
        for q in quantities(spec.ladder):
            derived = self._derived.get(q)
            if derived is None:
                continue
            how, window_s, min_points, _ = derived
            window = self._window(how.raw[0], window_s)
            slope, latest = window.slope_per_s(at, min_points), window.latest(at)
            if slope is None or latest is None:
                return None
            if latest >= level:
                return 0.0
            return (float(level) - latest) / slope if slope > 0 else None
        return None

    def _snapshot_extra(self) -> dict[str, Any]:
        return {
            "windows": {k: w.to_json() for k, w in self._windows.items()},
            "recent": {k: list(v) for k, v in self._recent.items()},
        }

    def _restore_extra(self, extra: dict[str, Any]) -> None:
        self._windows = {
            k: RateWindow.from_json(float(k.rsplit("@", 1)[1]), rows)
            for k, rows in extra.get("windows", {}).items()
        }
        self._by_source = {}
        self._recent = {key: [] for key in self._persist}
        for key, values in extra.get("recent", {}).items():
            if key in self._recent:
                self._recent[key] = [float(v) for v in values]
