"""A general-purpose streaming anomaly score for quantities without a standard ladder.

Score (:class:`RobustScorer`), for each new value ``x`` at event time ``t``, *before* learning
from it (test, then train):

1. **Baseline**: the median ``m`` and the MAD of the recent values of ``x``'s *season bin* (the
   bin of ``t`` modulo ``period_s``, ``bins`` bins; the last ``season_history`` values of each
   bin), and of the last ``history`` values regardless of season. A non-seasonal quantity uses
   ``period_s = 0`` (one bin).
2. **Nonconformity**: ``z = |x - m| / max(1.4826 · MAD, floor)``, the robust z-score against
   the seasonal baseline and against the recent one; the smaller of the two (a value is anomalous
   only if it is unusual for the time of day *and* for the last hours). ``floor`` =
   ``max(floor_abs, floor_rel · |m|)`` keeps a flat series from dividing by zero.
3. **Calibration (the false-alarm control)**: the conformal p-value of ``z`` among the last
   ``calibration`` nonconformity scores of the same quantity, ``p = (1 + #{z_i ≥ z}) / (n + 1)``.
   If the scores are exchangeable (no anomaly: the process is stationary in the sense the
   baseline captures), ``P(p ≤ α) ≤ α`` for every ``α``: a rung at ``surprise ≥ -lg α`` fires on
   at most a fraction α of normal readings, whatever the distribution of the data (Vovk,
   Gammerman & Shafer 2005, *Algorithmic Learning in a Random World*, ch. 2). With ``n`` scores
   the smallest p is ``1/(n+1)``, so a rung at ``-lg α`` needs ``n ≥ 1/α - 1`` (the shipped
   ``min_calibration`` is 1000 for α = 0.001). The ladder's hysteresis and dwell then merge
   consecutive exceedances into one finding.
4. **Learning**: the value always enters the baselines (a lasting level shift becomes the new
   normal), but a score that reached the rule's lowest rung does not enter the calibration set
   (River's "protect the detector": the false-alarm control stays calibrated on normal data,
   and one anomaly does not blind it to the next).

The derived quantity is ``<raw>_surprise = -lg p`` (``flow_m3s_surprise``): 3 means "as rare as 1 in
1000 normal readings". The score is unknown (the rule publishes nothing, never ``none``) until the
recent history and the calibration set hold ``min_history`` and ``min_calibration`` values.

>>> import numpy as np
>>> scorer = RobustScorer(period_s=0.0, bins=1, history=50, calibration=200, min_history=20,
...                       min_calibration=50, floor_abs=0.01, floor_rel=0.0)
>>> rng = np.random.default_rng(3)
>>> for i in range(300):
...     scorer.learn(float(i), 10.0 + rng.normal(), scorer.score(float(i), 10.0 + rng.normal()))
>>> round(scorer.score(300.0, 10.5) or 0.0, 2), round(scorer.score(300.0, 25.0) or 0.0, 2)
(0.37, 2.3)
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from detectors.ladder import quantities
from detectors.station import StationDetector
from yujing.contracts import ConfigError, Finding, Reading

if TYPE_CHECKING:
    from yujing.config.ladders import RuleSpec
    from yujing.config.stations import StationSpec

__all__ = ["AnomalyDetector", "AnomalySettings", "RobustScorer", "SUFFIX"]

SUFFIX = "_surprise"
MAD_TO_SIGMA = 1.4826


@dataclass(frozen=True, slots=True)
class AnomalySettings:
    """The anomaly rule's params (units in the names); see the module docstring."""

    period_s: float = 86400.0
    bins: int = 24
    history: int = 288
    calibration: int = 1000
    min_history: int = 24
    min_calibration: int = 1000
    floor_abs: float = 1e-6
    floor_rel: float = 0.01
    season_history: int = 36

    @classmethod
    def from_rule(cls, spec: RuleSpec) -> AnomalySettings:
        base = cls()
        values: dict[str, Any] = {}
        for name in cls.__dataclass_fields__:
            raw = spec.params.get(name, getattr(base, name))
            if isinstance(raw, bool) or not isinstance(raw, int | float) or raw < 0:
                raise ConfigError(
                    f"rule {spec.rule!r}: param {name} must be a number >= 0, got {raw!r}"
                )
            values[name] = int(raw) if isinstance(getattr(base, name), int) else float(raw)
        return cls(**values)


def _median_mad(ordered: list[float]) -> tuple[float, float]:
    n = len(ordered)
    mid = n // 2
    median = ordered[mid] if n % 2 else 0.5 * (ordered[mid - 1] + ordered[mid])
    deviations = sorted(abs(v - median) for v in ordered)
    mad = deviations[mid] if n % 2 else 0.5 * (deviations[mid - 1] + deviations[mid])
    return median, mad


class RobustScorer:
    """Seasonal median/MAD + conformal calibration for one quantity (module docstring)."""

    def __init__(
        self,
        period_s: float,
        bins: int,
        history: int,
        calibration: int,
        min_history: int,
        min_calibration: int,
        floor_abs: float,
        floor_rel: float,
        season_history: int | None = None,
    ) -> None:
        self.period_s, self.bins = period_s, max(1, bins) if period_s > 0 else 1
        self.season_history = history if season_history is None else season_history
        self.history, self.calibration = history, calibration
        self.min_history, self.min_calibration = min_history, min_calibration
        self.floor_abs, self.floor_rel = floor_abs, floor_rel
        self.seasonal: list[list[float]] = [[] for _ in range(self.bins)]  # chronological
        self.recent: list[float] = []
        # the same values kept sorted: each reading's medians need them sorted, and inserting
        # one value costs less than sorting the history again (288 values at the shipped size)
        self._seasonal_sorted: list[list[float]] = [[] for _ in range(self.bins)]
        self._recent_sorted: list[float] = []
        self.scores: list[float] = []  # chronological nonconformity scores
        self.sorted_scores: list[float] = []

    @classmethod
    def from_settings(cls, s: AnomalySettings) -> RobustScorer:
        return cls(
            s.period_s,
            s.bins,
            s.history,
            s.calibration,
            s.min_history,
            s.min_calibration,
            s.floor_abs,
            s.floor_rel,
            s.season_history,
        )

    def _bin(self, ts: float) -> int:
        if self.bins == 1:
            return 0
        return int((ts % self.period_s) / self.period_s * self.bins) % self.bins

    def _z(self, ordered: list[float], x: float) -> float | None:
        if len(ordered) < self.min_history:
            return None
        median, mad = _median_mad(ordered)
        scale = max(MAD_TO_SIGMA * mad, self.floor_abs, self.floor_rel * abs(median))
        return abs(x - median) / scale

    def nonconformity(self, ts: float, x: float) -> float | None:
        """The robust z of ``x`` at ``ts`` (None while warming up)."""
        recent = self._z(self._recent_sorted, x)
        if recent is None:
            return None
        if self.bins == 1:
            return recent
        seasonal = self._z(self._seasonal_sorted[self._bin(ts)], x)
        return recent if seasonal is None else min(recent, seasonal)

    def score(self, ts: float, x: float) -> float | None:
        """``surprise = -lg p`` of ``x`` at ``ts``; None while warming up."""
        return self._surprise(self.nonconformity(ts, x))

    def learn(
        self, ts: float, x: float, surprise: float | None = None, protect_at: float = math.inf
    ) -> None:
        """Take ``x`` into the baselines and its nonconformity into the calibration set (unless
        its ``surprise`` reached ``protect_at``)."""
        self._learn(ts, x, self.nonconformity(ts, x), surprise, protect_at)

    def take(self, ts: float, x: float, protect_at: float = math.inf) -> float | None:
        """:meth:`score`, then :meth:`learn` from ``x``: its surprise. Why one method: both
        work out the nonconformity against the same baselines (four sorts of the history),
        and here it is worked out once."""
        z = self.nonconformity(ts, x)
        surprise = self._surprise(z)
        self._learn(ts, x, z, surprise, protect_at)
        return surprise

    def _surprise(self, z: float | None) -> float | None:
        if z is None or len(self.scores) < self.min_calibration:
            return None
        n = len(self.sorted_scores)
        at_least = n - bisect.bisect_left(self.sorted_scores, z)
        p = (1 + at_least) / (n + 1)
        return -math.log10(p)

    def _learn(
        self, ts: float, x: float, z: float | None, surprise: float | None, protect_at: float
    ) -> None:
        if z is not None and (surprise is None or surprise < protect_at):
            self.scores.append(z)
            bisect.insort(self.sorted_scores, z)
            if len(self.scores) > self.calibration:
                old = self.scores.pop(0)
                del self.sorted_scores[bisect.bisect_left(self.sorted_scores, old)]
        _keep_last(self.recent, self._recent_sorted, x, self.history)
        if self.bins > 1:
            season = self._bin(ts)
            _keep_last(self.seasonal[season], self._seasonal_sorted[season], x, self.season_history)

    def to_json(self) -> dict[str, Any]:
        return {
            "seasonal": [list(b) for b in self.seasonal],
            "recent": list(self.recent),
            "scores": list(self.scores),
        }

    def load(self, data: dict[str, Any]) -> None:
        self.seasonal = [[float(v) for v in b] for b in data["seasonal"]]
        self.recent = [float(v) for v in data["recent"]]
        self.scores = [float(v) for v in data["scores"]]
        self.sorted_scores = sorted(self.scores)
        self._seasonal_sorted = [sorted(b) for b in self.seasonal]
        self._recent_sorted = sorted(self.recent)


def _keep_last(chronological: list[float], ordered: list[float], x: float, keep: int) -> None:
    """Append ``x`` to a window and its sorted copy; drop the oldest beyond ``keep``."""
    chronological.append(x)
    bisect.insort(ordered, x)
    if len(chronological) > keep:
        del ordered[bisect.bisect_left(ordered, chronological.pop(0))]


class AnomalyDetector(StationDetector):
    """Any quantity ``q`` of a station → ``q_surprise`` → the rule's ladder (hazard
    ``anomaly``). One :class:`RobustScorer` per raw quantity; settings from the rule's params.
    Readings are scored and learned in ``seq`` order; a late reading (older than the newest)
    is neither scored nor learned (a seasonal baseline cannot take the past back)."""

    family = "anomaly"

    def __init__(self, station: StationSpec, rules: Sequence[RuleSpec]) -> None:
        super().__init__(station, rules)
        self._raw: dict[str, str] = {}  # raw quantity -> its surprise quantity
        self._scorers: dict[str, RobustScorer] = {}
        self._protect: dict[str, float] = {}
        for spec in self.rules:
            surprise = spec.ladder.quantity
            raw = surprise[: -len(SUFFIX)]
            self._raw[raw] = surprise
            self._scorers[raw] = RobustScorer.from_settings(AnomalySettings.from_rule(spec))
            self._protect[raw] = min(r.enter for r in spec.ladder.rungs)

    def _check(self) -> None:
        for spec in self.rules:
            reads = quantities(spec.ladder)
            if len(reads) != 1 or not reads[0].endswith(SUFFIX):
                raise ConfigError(
                    f"station {self.station.id}: anomaly rule {spec.rule!r} must read one "
                    f"'<quantity>{SUFFIX}', reads {', '.join(reads)}"
                )

    def _inputs(self, spec: RuleSpec) -> frozenset[str]:
        return frozenset({spec.ladder.quantity[: -len(SUFFIX)]})

    def _apply(self, reading: Reading, *, late: bool) -> list[Finding]:
        if late:
            return []
        values: dict[str, float] = {}
        for raw, surprise in self._raw.items():
            x = reading.values.get(raw)
            if x is None or not math.isfinite(x):
                continue
            score = self._scorers[raw].take(reading.ts, float(x), self._protect[raw])
            if score is not None:
                values[surprise] = score
        if not values:
            return []
        return self._step(values, self._at(reading.ts), source_ts=reading.ts)

    def _snapshot_extra(self) -> dict[str, Any]:
        return {"scorers": {q: s.to_json() for q, s in self._scorers.items()}}

    def _restore_extra(self, extra: dict[str, Any]) -> None:
        for q, data in extra["scorers"].items():
            if q in self._scorers:
                self._scorers[q].load(data)
