"""Rain totals over sliding event-time windows, graded by the ``rainstorm`` ladders.

Each report carries ``rain_mm``, the rain since the gauge's previous report. The total for window
``W`` at event time ``t`` is the sum of the increments with ``ts`` in ``(t - W, t]``, for
W = 1, 3, 6, 12 and 24 h (quantities ``rain_1h_mm`` … ``rain_24h_mm``, :data:`RAIN_WINDOWS_S`).
Every rule is evaluated with all five totals, so a ladder's rungs may read different windows
(``configs/ladders/rain.yaml``: the CMA rainstorm signals grade 12 h, 6 h and 3 h totals).

When totals are evaluated
    On every reading, at ``E = max(last evaluation time, reading.ts)``, and on every
    ``advance(now)`` at ``E = now`` (windows expire as time passes without data; a step-down
    then follows the ladder's dwell). ``advance`` does not evaluate while the station is silent.

Late and out-of-order readings (precisely)
    1. Within one tick, readings behind a ``seq`` gap are held and applied in ``seq`` order once
       the gap fills (:mod:`detectors._sequence`). A shuffled burst, e.g. a gauge uploading the hour
       it buffered offline, therefore yields exactly the findings of the in-order burst.
    2. A reading that is still older than the last evaluation time ``E`` (its gap was released
       by a tick, or a tick moved ``E`` past it) is inserted at its place and the totals are
       recomputed at ``E``; its increment counts in window ``W`` iff ``ts > E - W``. Increments
       are non-negative, so the totals at ``E`` can only rise: such a reading can raise a grade
       or cancel a pending step-down, never lower a grade or start a dwell. Its findings carry
       ``ts = E``, ``source_ts = reading.ts`` and ``evidence["late"] = True``.
    3. A reading older than ``E - 24 h`` changes no window and is dropped.

Cost
    Increments are integers in µm (sums exact and independent of arrival order), sorted by ``ts``
    with prefix sums: a total is two bisects; an in-order reading appends in O(1); a late one
    inserts in O(k) for the k newer increments; increments older than 24 h are pruned.

>>> w = RainWindows()
>>> for minute, mm in [(10, 5.0), (70, 20.5), (130, 30.0)]:
...     w.add(minute * 60.0, round(mm * UM_PER_MM))
>>> w.totals(130 * 60.0)["rain_1h_mm"], w.totals(130 * 60.0)["rain_3h_mm"]
(30.0, 55.5)
>>> w.totals(190 * 60.0)["rain_1h_mm"]   # (130 min, 190 min]: the 30 mm has left the hour
0.0
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from detectors.ladder import quantities
from detectors.station import StationDetector
from yujing.contracts import ConfigError, Finding, Reading

if TYPE_CHECKING:  # imported for annotations only: yujing.config imports detectors.ladder
    from yujing.config.ladders import RuleSpec
    from yujing.config.stations import StationSpec

__all__ = ["RAIN_WINDOWS_S", "RainDetector", "RainWindows", "UM_PER_MM"]

RAIN_WINDOWS_S: dict[str, float] = {
    "rain_1h_mm": 3600.0,
    "rain_3h_mm": 3 * 3600.0,
    "rain_6h_mm": 6 * 3600.0,
    "rain_12h_mm": 12 * 3600.0,
    "rain_24h_mm": 24 * 3600.0,
}
HORIZON_S = max(RAIN_WINDOWS_S.values())
UM_PER_MM = 1000  # increments are kept as integer micrometres of rain


class RainWindows:
    """Increments sorted by event time, with prefix sums (``_cum[i]`` = sum of the first i)."""

    __slots__ = ("_cum", "_ts")

    def __init__(self) -> None:
        self._ts: list[float] = []
        self._cum: list[int] = [0]

    def __len__(self) -> int:
        return len(self._ts)

    def add(self, ts: float, um: int) -> None:
        """Insert one increment (µm) at ``ts``; O(1) when ``ts`` is the newest."""
        position = bisect.bisect_right(self._ts, ts)
        self._ts.insert(position, ts)
        cum = self._cum
        cum.insert(position + 1, cum[position] + um)
        for i in range(position + 2, len(cum)):
            cum[i] += um

    def total_um(self, at: float, window_s: float) -> int:
        """Sum of the increments with ``ts`` in ``(at - window_s, at]``."""
        high = bisect.bisect_right(self._ts, at)
        low = bisect.bisect_right(self._ts, at - window_s, 0, high)
        return self._cum[high] - self._cum[low]

    def totals(self, at: float) -> dict[str, float]:
        """Every window's total at ``at``, in mm."""
        return {q: self.total_um(at, w) / UM_PER_MM for q, w in RAIN_WINDOWS_S.items()}

    def prune(self, before: float) -> None:
        """Forget increments with ``ts <= before`` (they are in no window any more)."""
        count = bisect.bisect_right(self._ts, before)
        if count:
            del self._ts[:count]
            del self._cum[:count]

    def to_json(self) -> dict[str, list[float] | list[int]]:
        """``{"ts": [...], "um": [...]}``: two flat lists (a compact snapshot)."""
        cum = self._cum
        return {"ts": list(self._ts), "um": [cum[i + 1] - cum[i] for i in range(len(self._ts))]}

    @classmethod
    def from_json(cls, data: dict[str, Any] | list[list[float]]) -> RainWindows:
        return cls.pooled([data])

    @classmethod
    def pooled(cls, sources: Sequence[dict[str, Any] | list[list[float]]]) -> RainWindows:
        """One window set holding every increment of ``sources`` (``to_json`` forms; the older
        ``[[ts, um], ...]`` form too), built in O(n log n), the same as adding them one by one."""
        rows: list[tuple[float, int]] = []
        for source in sources:
            if isinstance(source, dict):
                rows.extend(zip(map(float, source["ts"]), map(int, source["um"]), strict=True))
            else:
                rows.extend((float(ts), int(um)) for ts, um in source)
        rows.sort(key=lambda row: row[0])
        windows = cls()
        cum = windows._cum
        for ts, um in rows:
            windows._ts.append(ts)
            cum.append(cum[-1] + um)
        return windows


class RainDetector(StationDetector):
    """Rain gauge: windowed totals → ``rainstorm`` and ``short_heavy_rain`` (any rule whose
    ladder reads only :data:`RAIN_WINDOWS_S` quantities)."""

    family = "rain"

    def __init__(self, station: StationSpec, rules: Sequence[RuleSpec]) -> None:
        super().__init__(station, rules)
        self._windows = RainWindows()

    def _check(self) -> None:
        for spec in self.rules:
            unknown = [q for q in quantities(spec.ladder) if q not in RAIN_WINDOWS_S]
            if unknown:
                raise ConfigError(
                    f"station {self.station.id}: rule {spec.rule!r} reads {unknown[0]!r}; "
                    f"rain windows are {', '.join(RAIN_WINDOWS_S)}"
                )

    def _apply(self, reading: Reading, *, late: bool) -> list[Finding]:
        at = self._at(reading.ts)
        if reading.ts > at - HORIZON_S:
            mm = max(0.0, float(reading.values.get("rain_mm", 0.0)))
            self._windows.add(reading.ts, round(mm * UM_PER_MM))
        return self._evaluate(at, source_ts=reading.ts, late=late)

    def _expire(self, now: float) -> list[Finding]:
        if self._head_ts is None or (self._eval_ts is not None and now <= self._eval_ts):
            return []
        return self._evaluate(now, source_ts=None, late=False)

    def _evaluate(self, at: float, *, source_ts: float | None, late: bool) -> list[Finding]:
        totals = self._windows.totals(at)
        self._windows.prune(at - HORIZON_S)
        evidence = {"totals_mm": dict(totals), "late": late}
        # totals at `at` are present-time values even for a late reading: not `late` for _step
        return self._step(totals, at, source_ts=source_ts, evidence=evidence)

    def _inputs(self, spec: RuleSpec) -> frozenset[str]:
        return frozenset({"rain_mm"})

    def _quantity_evidence(self, quantity: str) -> dict[str, Any]:
        window = RAIN_WINDOWS_S.get(quantity)
        return {} if window is None else {"window_s": window}

    def _snapshot_extra(self) -> dict[str, Any]:
        return {"increments": self._windows.to_json()}

    def _restore_extra(self, extra: dict[str, Any]) -> None:
        self._windows = RainWindows.from_json(extra["increments"])
