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
    inserts in O(k) for the k newer increments; increments older than 24 h are pruned. An
    evaluation whose totals lie between the same ladder breakpoints as the last one, with no
    dwell ending, does not step the ladders (it could not change them: ``_unchanged``); most
    evaluations of a gauge are such, and a city day replays that much faster. Cheaper still: while
    no increment other than 0 mm has come in and none has entered or left a window since the last
    full evaluation (:meth:`RainWindows.unchanged_at`: a dry gauge, and most ticks), the totals
    are not even worked out again (``_calm``).

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
import math
from array import array
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from detectors.ladder import LadderState, breakpoints, quantities, step_down_due
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
_WINDOWS = tuple(RAIN_WINDOWS_S.items())
_WALK = 8  # steps a window start is walked forward before bisecting
UM_PER_MM = 1000  # increments are kept as integer micrometres of rain


class RainWindows:
    """Increments sorted by event time, with prefix sums (``_cum[i]`` = sum of the first i).
    Both are flat arrays of machine numbers: a bisect over a city of gauges' day-long lists of
    Python objects spent its time waiting for memory.

    Each :meth:`totals` also notes until when its answer cannot change (``_calm_at``,
    ``_calm_soon``): :meth:`unchanged_at` answers from that in two comparisons, which is what
    keeps a dry gauge (most of a city, most of the time) cheap on every reading and tick."""

    __slots__ = ("_calm_at", "_calm_from", "_calm_soon", "_cum", "_hints", "_ts")

    def __init__(self) -> None:
        self._ts: array[float] = array("d")
        self._cum: array[int] = array("q", [0])
        self._hints = [0] * len(_WINDOWS)  # where each window began at the last totals()
        # the time of the last totals() (None: changed since), a time safely before any
        # increment other than 0 mm leaves a window or enters one, and the oldest such
        # increment then in a window or after that time (pruning it changes a total)
        self._calm_at: float | None = None
        self._calm_soon = -math.inf
        self._calm_from = math.inf

    def __len__(self) -> int:
        return len(self._ts)

    def unchanged_at(self, at: float) -> bool:
        """Would :meth:`totals` at ``at`` give exactly what the last call gave? Yes when only
        0 mm increments were added since (a zero changes no total), ``at`` is not before that
        call and no increment other than 0 mm has left or entered a window in between."""
        since = self._calm_at
        return since is not None and since <= at < self._calm_soon

    def add(self, ts: float, um: int) -> None:
        """Insert one increment (µm) at ``ts``; O(1) when ``ts`` is the newest."""
        if um:
            self._calm_at = None
        times, cum = self._ts, self._cum
        if not times or ts >= times[-1]:  # in order: the common case
            times.append(ts)
            cum.append(cum[-1] + um)
            return
        position = bisect.bisect_right(times, ts)
        times.insert(position, ts)
        cum.insert(position + 1, cum[position] + um)
        for i in range(position + 2, len(cum)):
            cum[i] += um

    def total_um(self, at: float, window_s: float) -> int:
        """Sum of the increments with ``ts`` in ``(at - window_s, at]``."""
        high = bisect.bisect_right(self._ts, at)
        low = bisect.bisect_right(self._ts, at - window_s, 0, high)
        return self._cum[high] - self._cum[low]

    def totals(self, at: float) -> dict[str, float]:
        """Every window's total at ``at``, in mm. Evaluation times mostly move forward by less
        than a report interval, so each window's start is looked for from where it was last
        time (a step or two, on memory already at hand) before bisecting."""
        times, cum, hints = self._ts, self._cum, self._hints
        count = len(times)
        high = count if not count or times[-1] <= at else bisect.bisect_right(times, at)
        top = cum[high]
        out = {}
        for k, (quantity, window_s) in enumerate(_WINDOWS):
            edge = at - window_s
            j = hints[k]
            if j > high or (j and times[j - 1] > edge):
                j = bisect.bisect_right(times, edge, 0, high)
            else:  # everything before j is in the past of the window: walk, then bisect
                limit = j + _WALK
                while j < high and times[j] <= edge:
                    j += 1
                    if j == limit:
                        j = bisect.bisect_right(times, edge, j, high)
                        break
            hints[k] = j
            out[quantity] = (top - cum[j]) / UM_PER_MM
        self._note_calm(at, high)
        return out

    def _note_calm(self, at: float, high: int) -> None:
        """Remember what :meth:`unchanged_at` needs after a :meth:`totals` at ``at``: when the
        oldest increment other than 0 mm in each window leaves it (a zero leaving changes no
        total: on a dry gauge nothing is ever due) and when the oldest one after ``at`` enters.
        ``_cum`` never decreases (increments are not negative), so the first such increment from
        index ``j`` on is found by bisecting ``_cum`` for the first sum above ``_cum[j]``."""
        times, cum = self._ts, self._cum
        count = len(times)
        due = oldest = math.inf
        for j, (_, window_s) in zip(self._hints, _WINDOWS, strict=True):
            i = bisect.bisect_right(cum, cum[j], j + 1, high + 1) - 1  # cum[i + 1] > cum[j]
            if i < high:
                due = min(due, times[i] + window_s)
                oldest = min(oldest, times[i])
        i = bisect.bisect_right(cum, cum[high], high + 1, count + 1) - 1
        if i < count:
            due = min(due, times[i])
            oldest = min(oldest, times[i])
        self._calm_at = at
        self._calm_soon = _safely_before(due)
        self._calm_from = oldest

    def prune(self, before: float) -> None:
        """Forget increments with ``ts <= before`` (they are in no window any more)."""
        times = self._ts
        if not times or times[0] > before:
            return
        count = bisect.bisect_right(times, before)
        if self._calm_at is not None and times[count - 1] >= self._calm_from:
            self._calm_at = None  # an increment still inside a window went
        del times[:count]
        del self._cum[:count]
        self._hints = [max(0, j - count) for j in self._hints]

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


@dataclass(slots=True)
class _Seen:
    """What the last full evaluation left for :meth:`RainDetector._unchanged`: the totals'
    bands between the ladders' breakpoints, the ladder states, when the first dwell ends."""

    bands: tuple[int, ...]
    states: tuple[LadderState, ...]
    due: float


def _safely_before(ts: float) -> float:
    """A time earlier than ``ts`` by far more than any rounding of a sum or difference of
    times: 1 s plus 2^-40 of the magnitude (thousands of units in the last place). An evaluation
    time ``a`` below it has ``a - w < x`` for ``ts = x + w`` however both were rounded, so
    :meth:`RainWindows.totals` at ``a`` still counts ``x`` in the window ``w`` exactly as it did.
    Nearer the edge (a second in a window's hours) the totals are simply worked out again."""
    return ts - (1.0 + abs(ts) * 2.0**-40) if math.isfinite(ts) else ts


class RainDetector(StationDetector):
    """Rain gauge: windowed totals → ``rainstorm`` and ``short_heavy_rain`` (any rule whose
    ladder reads only :data:`RAIN_WINDOWS_S` quantities)."""

    family = "rain"

    def __init__(self, station: StationSpec, rules: Sequence[RuleSpec]) -> None:
        super().__init__(station, rules)
        self._windows = RainWindows()
        # every rule's breakpoints per window (ladder.breakpoints), and the bands of the totals
        # and the ladder states the last full evaluation left: see _unchanged
        self._edges = tuple(
            (q, edges)
            for q in RAIN_WINDOWS_S
            if (edges := sorted({b for spec in self.rules for b in breakpoints(spec.ladder, q)}))
        )
        self._seen: _Seen | None = None

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
        if not late and self._calm(at):
            # all a full evaluation would change: the evaluation time, and dry reports (0 mm)
            # older than every window forgotten, as a dry gauge's would pile up for days
            self._eval_ts = self._at(at)
            self._windows.prune(at - HORIZON_S)
            return []
        totals = self._windows.totals(at)
        self._windows.prune(at - HORIZON_S)
        evidence = {"totals_mm": dict(totals), "late": late}
        bands = tuple([bisect.bisect_right(edges, totals[q]) for q, edges in self._edges])
        if not late and self._unchanged(bands, at):
            # what _step does when no ladder can move, without stepping them
            self._eval_ts = self._at(at)
            self._values.update(totals)
            self._evidence = evidence
            return []
        # totals at `at` are present-time values even for a late reading: not `late` for _step
        out = self._step(totals, at, source_ts=source_ts, evidence=evidence)
        # a late step keeps a state only if more alarming, and a blind rule is not stepped: then
        # the bands are not what the states saw
        self._seen = None if late or self._blocked else self._remember(bands)
        return out

    def _remember(self, bands: tuple[int, ...]) -> _Seen:
        """What :meth:`_unchanged` compares with: the bands, the states, when a dwell ends."""
        dues = [step_down_due(spec.ladder, self._tracks[key].state) for spec, key, _ in self._plan]
        due = min((d for d in dues if d is not None), default=math.inf)
        return _Seen(bands, tuple(track.state for track in self._tracks.values()), due)

    def _calm(self, at: float) -> bool:
        """Would a full evaluation at ``at`` change nothing but the evaluation time? Yes when the
        totals are those of the last full evaluation (:meth:`RainWindows.unchanged_at`) and that
        one left ``_seen``: it was not late (so ``_values`` and ``_evidence`` hold those very
        totals, ``late`` false) and, the bands being the same, :meth:`_unchanged` holds."""
        seen = self._seen
        return (
            seen is not None and self._windows.unchanged_at(at) and self._unchanged(seen.bands, at)
        )

    def _unchanged(self, bands: tuple[int, ...], at: float) -> bool:
        """Would :meth:`_step` leave every rule as it is? Yes when the totals lie in the same
        bands between the ladders' breakpoints as at the last full evaluation, no dwell ends by
        ``at``, no ladder state was changed since (blinded, restored) and every grade is
        published (or the station is silent, when nothing is published anyway): that is what
        :func:`~detectors.ladder.breakpoints` guarantees. Most evaluations of a gauge are."""
        seen = self._seen
        if seen is None or seen.bands != bands or at >= seen.due or self._blocked:
            return False
        silent = self._silence.silent
        for track, state in zip(self._tracks.values(), seen.states, strict=True):
            if track.state is not state or not (silent or track.published is state.grade):
                return False
        return True

    def _inputs(self, spec: RuleSpec) -> frozenset[str]:
        return frozenset({"rain_mm"})

    def _quantity_evidence(self, quantity: str) -> dict[str, Any]:
        window = RAIN_WINDOWS_S.get(quantity)
        return {} if window is None else {"window_s": window}

    def _snapshot_extra(self) -> dict[str, Any]:
        return {"increments": self._windows.to_json()}

    def _restore_extra(self, extra: dict[str, Any]) -> None:
        self._windows = RainWindows.from_json(extra["increments"])
        self._seen = None
