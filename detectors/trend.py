"""Trends of instantaneous quantities: rate of rise, projection ahead, persistence (n of m).

Derived quantities are named after the raw quantity they come from, units in the name, so a
ladder can read them like any other (``configs/ladders``):

``<base>_rise_<unit>_per_h`` / ``<base>_rise_<unit>_per_min``
    Rate of change of ``<base>_<unit>``: the least-squares slope over the readings of the
    trailing ``rise_window_s`` (rule param; at least ``rise_min_points`` readings spanning at
    least half the window, else unknown). ``level_rise_m_per_h`` from ``level_m``,
    ``depth_rise_cm_per_h`` from ``depth_cm``, ``ch4_rise_pct_lel_per_min`` from
    ``ch4_pct_lel``, ``temp_rise_c_per_min`` from ``temp_c``.
``<base>_ahead_<unit>``
    Where the value will be after ``ahead_s`` (rule param) at the current rate of rise (a falling
    value is projected flat): ``level_ahead_m``. With a rung at the warning level this grades
    "the warning level will be reached within ``ahead_s``".
``runaway_c_per_min``
    Thermal runaway of a tank: the temperature's rate of rise (°C/min) while the pressure
    follows, i.e. rises at ``pressure_follow_kpa_per_min`` or faster; 0 otherwise.

Persistence: a rule with params ``persist_n`` and ``persist_m`` is graded on the ``n``-th largest
of the last ``m`` values of its quantity, so a rung is reached only when at least ``n`` of the
last ``m`` readings reach it, and held while at least ``n`` stay above its exit edge: one spike
does not page.

>>> w = RateWindow(window_s=1800.0)
>>> for minute, level in [(0, 10.00), (10, 10.10), (20, 10.20), (30, 10.31)]:
...     w.add(minute * 60.0, level)
>>> round(w.slope_per_s(1800.0, min_points=3) * 3600.0, 3)     # m/h
0.618
>>> nth_largest([1.0, 9.0, 2.0, 8.0, 3.0], 2)   # 2 of the last 5 reach 8
8.0
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

__all__ = ["Derivation", "RateWindow", "derivation", "nth_largest"]

_RISE = re.compile(r"^(?P<base>[a-z0-9]+)_rise_(?P<unit>[a-z0-9_]+)_per_(?P<per>h|min|s)$")
_AHEAD = re.compile(r"^(?P<base>[a-z0-9]+)_ahead_(?P<unit>[a-z0-9_]+)$")
_PER_S = {"h": 3600.0, "min": 60.0, "s": 1.0}
RUNAWAY = "runaway_c_per_min"


@dataclass(frozen=True, slots=True)
class Derivation:
    """How a derived quantity is computed: ``kind`` is ``rise``, ``ahead`` or ``runaway``;
    ``raw`` the raw quantities read; ``scale_s`` turns a per-second rate into the unit's."""

    quantity: str
    kind: str
    raw: tuple[str, ...]
    scale_s: float = 1.0


def derivation(quantity: str) -> Derivation | None:
    """The derivation behind a quantity name, or None for a raw quantity.

    >>> derivation("level_rise_m_per_h")
    Derivation(quantity='level_rise_m_per_h', kind='rise', raw=('level_m',), scale_s=3600.0)
    >>> derivation("level_m") is None
    True
    """
    if quantity == RUNAWAY:
        return Derivation(quantity, "runaway", ("temp_c", "pressure_kpa"), 60.0)
    rise = _RISE.match(quantity)
    if rise:
        raw = f"{rise['base']}_{rise['unit']}"
        return Derivation(quantity, "rise", (raw,), _PER_S[rise["per"]])
    ahead = _AHEAD.match(quantity)
    if ahead:
        return Derivation(quantity, "ahead", (f"{ahead['base']}_{ahead['unit']}",))
    return None


class RateWindow:
    """(time, value) points of one raw quantity, sorted by time, kept for ``window_s``."""

    __slots__ = ("_memo", "_ts", "_values", "window_s")

    def __init__(self, window_s: float) -> None:
        self.window_s = window_s
        self._ts: list[float] = []
        self._values: list[float] = []
        self._memo: tuple[float, int, float | None] | None = None  # the last slope asked for

    def __len__(self) -> int:
        return len(self._ts)

    def add(self, ts: float, value: float) -> None:
        """Insert a point (in order: O(1)); a point at an existing time replaces it."""
        i = bisect.bisect_left(self._ts, ts)
        self._memo = None
        if i < len(self._ts) and self._ts[i] == ts:
            self._values[i] = value
            return
        self._ts.insert(i, ts)
        self._values.insert(i, value)

    def prune(self, now: float) -> None:
        """Forget points older than ``now - window_s`` (they are in no window any more)."""
        cut = bisect.bisect_left(self._ts, now - self.window_s)
        if cut:
            del self._ts[:cut]
            del self._values[:cut]
            self._memo = None

    def slope_per_s(self, now: float, min_points: int) -> float | None:
        """Least-squares slope of the points in ``[now - window_s, now]``, per second; None
        with fewer than ``min_points`` points or a span under half the window.

        Remembered until the points change: a level's rise rule and its projection ahead ask
        the same window at the same time."""
        memo = self._memo
        if memo is not None and memo[0] == now and memo[1] == min_points:
            return memo[2]
        slope = self._slope(now, min_points)
        self._memo = (now, min_points, slope)
        return slope

    def _slope(self, now: float, min_points: int) -> float | None:
        lo = bisect.bisect_left(self._ts, now - self.window_s)
        hi = bisect.bisect_right(self._ts, now)
        n = hi - lo
        if n < max(2, min_points):
            return None
        ts, values = self._ts, self._values
        t0 = ts[lo]
        if ts[hi - 1] - t0 < 0.5 * self.window_s:
            return None
        # in place over the window, no copies: with reports every 10 s a river's 30-min window
        # holds 180 points, and this runs for every reading of a trend rule. The arithmetic and
        # its order are those of the two-pass formula written with sum() (sequential sums from
        # 0; x * x is x**2 correctly rounded alike), so every rate is the same to the last bit
        sum_t = sum_v = 0.0
        for i in range(lo, hi):
            sum_t += ts[i] - t0
            sum_v += values[i]
        mean_t, mean_v = sum_t / n, sum_v / n
        sxx = sxy = 0.0
        for i in range(lo, hi):
            x = ts[i] - t0 - mean_t
            sxx += x * x
            sxy += x * (values[i] - mean_v)
        return sxy / sxx if sxx > 0 else None

    def latest(self, now: float) -> float | None:
        """The newest value at or before ``now``."""
        hi = bisect.bisect_right(self._ts, now)
        return self._values[hi - 1] if hi else None

    def to_json(self) -> list[list[float]]:
        return [[t, v] for t, v in zip(self._ts, self._values, strict=True)]

    @classmethod
    def from_json(cls, window_s: float, rows: list[list[float]]) -> RateWindow:
        window = cls(window_s)
        for ts, value in rows:
            window.add(float(ts), float(value))
        return window


def nth_largest(values: list[float], n: int) -> float | None:
    """The ``n``-th largest value (1 = the maximum); None with fewer than ``n`` values."""
    if len(values) < n:
        return None
    return sorted(values, reverse=True)[n - 1]
