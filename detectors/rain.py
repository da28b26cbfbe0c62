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
    evaluations of a gauge are such, and a city day replays that much faster. Cheaper still
    (``_quiet``): rain coming in only raises totals and rain leaving a window only lowers them,
    so after a full evaluation each total stays between its breakpoints while less rain than the
    distance to the one above has come in, and until enough rain to reach the one below could
    have left its window (:meth:`RainWindows.leaving_at`); until then the totals are not even
    worked out, only remembered as due (``_settle`` works them out when a finding, a snapshot or
    a late reading needs them). In a wet city day 98 % of a gauge's evaluations are such.

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
from collections.abc import Mapping, Sequence
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
_WIDTHS = tuple(RAIN_WINDOWS_S.values())
_WALK = 8  # steps a window start is walked forward before bisecting
_COMPACT_AT = 256  # pruned increments left in a window set's arrays before they are removed
UM_PER_MM = 1000  # increments are kept as integer micrometres of rain


class RainWindows:
    """Increments sorted by event time, with prefix sums (``_cum[i]`` = sum of the first i).
    Both are flat arrays of machine numbers: a bisect over a city of gauges' day-long lists of
    Python objects spent its time waiting for memory.

    Pruned increments stay in the arrays, before ``_start``, until there are
    :data:`_COMPACT_AT` of them: a gauge prunes one increment per report, and moving a day of
    increments down by one each time cost more than the rest of a report. Every search starts
    at ``_start``, so they are never seen again.

    :meth:`sums_um` remembers where each window began; :meth:`leaving_at` and
    :meth:`entering_at` answer from that until when the sums can only move within bounds, which
    is what lets a gauge skip most evaluations (:meth:`RainDetector._quiet`)."""

    __slots__ = ("_cum", "_high", "_hints", "_start", "_ts")

    def __init__(self) -> None:
        self._ts: array[float] = array("d")
        self._cum: array[int] = array("q", [0])
        self._start = 0  # increments before it are pruned
        self._hints = [0] * len(_WIDTHS)  # where each window began at the last sums_um()
        self._high = 0  # increments up to the time of the last sums_um()

    def __len__(self) -> int:
        return len(self._ts) - self._start

    def add(self, ts: float, um: int) -> None:
        """Insert one increment (µm) at ``ts``; O(1) when ``ts`` is the newest."""
        times, cum = self._ts, self._cum
        if not times or ts >= times[-1]:  # in order: the common case
            times.append(ts)
            cum.append(cum[-1] + um)
            return
        position = bisect.bisect_right(times, ts, self._start)
        times.insert(position, ts)
        cum.insert(position + 1, cum[position] + um)
        for i in range(position + 2, len(cum)):
            cum[i] += um

    def total_um(self, at: float, window_s: float) -> int:
        """Sum of the increments with ``ts`` in ``(at - window_s, at]``."""
        times, start = self._ts, self._start
        high = bisect.bisect_right(times, at, start)
        low = bisect.bisect_right(times, at - window_s, start, high)
        return self._cum[high] - self._cum[low]

    def sums_um(self, at: float) -> list[int]:
        """Every window's total at ``at`` in µm, in :data:`RAIN_WINDOWS_S` order. Evaluation
        times mostly move forward by less than a report interval, so each window's start is
        looked for from where it was last time (a step or two, on memory already at hand)
        before bisecting."""
        times, cum, hints, start = self._ts, self._cum, self._hints, self._start
        count = len(times)
        high = count if count == start or times[-1] <= at else bisect.bisect_right(times, at, start)
        top = cum[high]
        out = []
        for k, window_s in enumerate(_WIDTHS):
            edge = at - window_s
            j = hints[k]
            if j > high or j < start or (j > start and times[j - 1] > edge):
                j = bisect.bisect_right(times, edge, start, high)
            else:  # everything before j is in the past of the window: walk, then bisect
                limit = j + _WALK
                while j < high and times[j] <= edge:
                    j += 1
                    if j == limit:
                        j = bisect.bisect_right(times, edge, j, high)
                        break
            hints[k] = j
            out.append(top - cum[j])
        self._high = high
        return out

    def totals(self, at: float) -> dict[str, float]:
        """Every window's total at ``at``, in mm."""
        return {q: um / UM_PER_MM for q, um in zip(RAIN_WINDOWS_S, self.sums_um(at), strict=True)}

    def leaving_at(self, k: int, drop_um: int) -> float:
        """Of the increments in window ``k`` at the last :meth:`sums_um` (no add or prune
        since), the time from which those leaving it may have taken more than ``drop_um``
        away: the window's start passing the first increment that makes the sum from it on
        exceed ``drop_um`` (inf: none does). ``_cum`` never decreases (increments are not
        negative), so that increment is found by bisecting ``_cum``."""
        cum, j, high = self._cum, self._hints[k], self._high
        i = bisect.bisect_right(cum, cum[j] + drop_um, j + 1, high + 1) - 1
        return self._ts[i] + _WIDTHS[k] if i < high else math.inf

    def entering_at(self) -> float:
        """When the first increment newer than the last :meth:`sums_um` enters the windows
        (inf: there is none)."""
        return self._ts[self._high] if self._high < len(self._ts) else math.inf

    def prune(self, before: float) -> None:
        """Forget increments with ``ts <= before`` (they are in no window any more)."""
        times, start = self._ts, self._start
        if len(times) == start or times[start] > before:
            return
        start = bisect.bisect_right(times, before, start)
        if start < _COMPACT_AT:
            self._start = start
            return
        del times[:start]
        del self._cum[:start]
        self._hints = [max(0, j - start) for j in self._hints]
        self._high = max(0, self._high - start)
        self._start = 0

    def to_json(self) -> dict[str, list[float] | list[int]]:
        """``{"ts": [...], "um": [...]}``: two flat lists (a compact snapshot)."""
        cum, start = self._cum, self._start
        return {
            "ts": self._ts[start:].tolist(),
            "um": [cum[i + 1] - cum[i] for i in range(start, len(self._ts))],
        }

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
    :meth:`RainWindows.sums_um` at ``a`` still counts ``x`` in the window ``w`` exactly as it did.
    Nearer the edge (a second in a window's hours) the totals are simply worked out again."""
    return ts - (1.0 + abs(ts) * 2.0**-40) if math.isfinite(ts) else ts


def _um_edge(mm: float) -> int:
    """The least whole number of µm whose total in mm (``um / UM_PER_MM``, as the totals are
    worked out) is at least ``mm``: a total lies between the same breakpoints in µm against
    these edges as in mm against the ladder's."""
    um = math.ceil(mm * UM_PER_MM)
    while (um - 1) / UM_PER_MM >= mm:
        um -= 1
    while um / UM_PER_MM < mm:
        um += 1
    return um


class RainDetector(StationDetector):
    """Rain gauge: windowed totals → ``rainstorm`` and ``short_heavy_rain`` (any rule whose
    ladder reads only :data:`RAIN_WINDOWS_S` quantities)."""

    family = "rain"

    def __init__(self, station: StationSpec, rules: Sequence[RuleSpec]) -> None:
        super().__init__(station, rules)
        self._windows = RainWindows()
        # every rule's breakpoints per window (ladder.breakpoints) in µm, by window index, and
        # the bands of the totals and the ladder states the last full evaluation left
        self._edges = tuple(
            (k, tuple(_um_edge(b) for b in edges))
            for k, q in enumerate(RAIN_WINDOWS_S)
            if (edges := sorted({b for spec in self.rules for b in breakpoints(spec.ladder, q)}))
        )
        self._seen: _Seen | None = None
        # while _seen holds: µm of rain that may still come in, and the evaluation time until
        # which the totals cannot leave their bands nor a dwell end (see _quiet)
        self._room: float = 0.0
        self._until = -math.inf
        # an evaluation whose totals _values and _evidence stand for, not worked out yet
        self._lazy_at: float | None = None
        # False: every evaluation works the totals out and steps the ladders (the reference
        # the shortcuts are tested against); skipped: evaluations the shortcuts saved
        self.shortcuts = True
        self.skipped = 0

    def _check(self) -> None:
        for spec in self.rules:
            unknown = [q for q in quantities(spec.ladder) if q not in RAIN_WINDOWS_S]
            if unknown:
                raise ConfigError(
                    f"station {self.station.id}: rule {spec.rule!r} reads {unknown[0]!r}; "
                    f"rain windows are {', '.join(RAIN_WINDOWS_S)}"
                )

    def snapshot(self) -> dict[str, Any]:
        self._settle()
        return super().snapshot()

    def _apply(self, reading: Reading, *, late: bool) -> list[Finding]:
        at = self._at(reading.ts)
        lazy = self._lazy_at
        if late or (lazy is not None and reading.ts <= lazy):
            self._settle()  # a late evaluation keeps them; this increment would change them
        if reading.ts > at - HORIZON_S:
            um = round(max(0.0, float(reading.values.get("rain_mm", 0.0))) * UM_PER_MM)
            self._windows.add(reading.ts, um)
            self._room -= um
        return self._evaluate(at, source_ts=reading.ts, late=late)

    def _expire(self, now: float) -> list[Finding]:
        if self._head_ts is None or (self._eval_ts is not None and now <= self._eval_ts):
            return []
        return self._evaluate(now, source_ts=None, late=False)

    def _evaluate(self, at: float, *, source_ts: float | None, late: bool) -> list[Finding]:
        windows = self._windows
        if not late and self.shortcuts and self._quiet(at):
            # all a full evaluation would change: the evaluation time, the totals kept (worked
            # out when needed: _settle), and reports older than every window forgotten
            self._eval_ts = self._lazy_at = at
            self.skipped += 1
            windows.prune(at - HORIZON_S)
            return []
        sums = windows.sums_um(at)
        totals = {q: um / UM_PER_MM for q, um in zip(RAIN_WINDOWS_S, sums, strict=True)}
        evidence = {"totals_mm": dict(totals), "late": late}
        bands = tuple([bisect.bisect_right(edges, sums[k]) for k, edges in self._edges])
        if not late:
            self._lazy_at = None  # _values and _evidence are set below
        if not late and self.shortcuts and self._unchanged(bands, at):
            # what _step does when no ladder can move, without stepping them
            self._eval_ts = self._at(at)
            self.skipped += 1
            self._values.update(totals)
            self._evidence = evidence
            self._rebase(sums, bands)
            windows.prune(at - HORIZON_S)
            return []
        # totals at `at` are present-time values even for a late reading: not `late` for _step
        out = self._step(totals, at, source_ts=source_ts, evidence=evidence)
        # a late step keeps a state only if more alarming, and a blind rule is not stepped: then
        # the bands are not what the states saw
        self._seen = None if late or self._blocked else self._remember(bands)
        if self._seen is None:
            self._until = -math.inf
        else:
            self._rebase(sums, bands)
        windows.prune(at - HORIZON_S)
        return out

    def _remember(self, bands: tuple[int, ...]) -> _Seen:
        """What :meth:`_unchanged` compares with: the bands, the states, when a dwell ends."""
        dues = [step_down_due(spec.ladder, self._tracks[key].state) for spec, key, _ in self._plan]
        due = min((d for d in dues if d is not None), default=math.inf)
        return _Seen(bands, tuple(track.state for track in self._tracks.values()), due)

    def _rebase(self, sums: list[int], bands: tuple[int, ...]) -> None:
        """After an evaluation with the bands of ``_seen``, from the window sums it worked out
        (no add or prune since): how much rain may come in, and until when, before a total
        could leave its band. Rain coming in only raises totals, rain leaving a window only
        lowers them: a total stays in ``[low, high)`` while less than ``high - total`` has come
        in and no more than ``total - low`` has left its window. Nothing, if the ladders are not
        as :meth:`_unchanged` wants them (a grade not yet published)."""
        seen = self._seen
        assert seen is not None
        self._until = -math.inf
        silent = self._silence.silent
        for track, state in zip(self._tracks.values(), seen.states, strict=True):
            if track.state is not state or not (silent or track.published is state.grade):
                return
        windows = self._windows
        room: float = math.inf
        until = windows.entering_at()
        for (k, edges), band in zip(self._edges, bands, strict=True):
            total = sums[k]
            if band < len(edges):
                room = min(room, edges[band] - total)
            if band:
                until = min(until, windows.leaving_at(k, total - edges[band - 1]))
        self._room = room
        self._until = min(_safely_before(until), seen.due)

    def _quiet(self, at: float) -> bool:
        """Would a full evaluation at ``at`` change nothing but the evaluation time and the
        totals kept? Yes when the last full one was not late (it left ``_seen``), less rain than
        its room has come in since and ``at`` is before its ``_until`` (no total can have left
        its band by rain leaving a window, no dwell ends), and the ladders are as it left them:
        whatever changes a ladder state or a published grade (a step, a rule blinded, silence,
        a restore) ends the quiet (``_until``). Most evaluations of a gauge are quiet."""
        return self._room > 0 and at < self._until and not self._blocked

    def _settle(self) -> None:
        """Work out the totals a quiet evaluation left to ``_values`` and ``_evidence``, as a
        full one would have set them."""
        at = self._lazy_at
        if at is None:
            return
        self._lazy_at = None
        totals = self._windows.totals(at)
        self._values.update(totals)
        self._evidence = {"totals_mm": totals, "late": False}

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

    def _on_return(self, reading: Reading) -> list[Finding]:
        self._settle()
        return super()._on_return(reading)

    def _on_silence(self, now: float) -> list[Finding]:
        self._until = -math.inf  # grades published as unknown
        return super()._on_silence(now)

    def _blind(
        self, keys: Sequence[str], at: float, reason: str, evidence: Mapping[str, Any]
    ) -> list[Finding]:
        self._until = -math.inf  # ladders restarted
        return super()._blind(keys, at, reason, evidence)

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
        self._until = -math.inf
        self._lazy_at = None
