"""Grading a quantity that has a value at every sample (seismic): the ladder applied as if to
every sample, evaluated only where its answer can change.

:class:`SampledDetector` is the base of the waveform detectors (:mod:`detectors.seismic`,
:mod:`detectors.trigger`). ``_walk`` evaluates the ladders at the start of each run of samples
in the same band between the ladders' :func:`~detectors.ladder.breakpoints`, and where a
running dwell ends (:func:`~detectors.ladder.step_down_due`); any other sample would give the
same state. The ladder's clock never goes back: a sample older than the last evaluation is late
data, which may raise or cancel a pending step-down but never lowers a grade.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

from detectors.ladder import breakpoints, step_down_due
from detectors.station import StationDetector
from yujing.contracts import Finding, Grade, Reading

__all__ = ["SampledDetector", "peak"]

Array = npt.NDArray[np.float64]
_UNRAISED = (Grade.NONE, Grade.UNKNOWN)


class SampledDetector(StationDetector):
    """Base for detectors whose packets carry one value per sample (see the module docstring)."""

    holds = False  # packets are not held for seq order (the early-warning budget has no room)
    _lowest_enter: float | None = None  # the lowest rung of all rules, computed once

    def update(self, reading: Reading) -> list[Finding]:
        """:meth:`StationDetector.update`, written out for a packet of a station that is not
        silent and has no quality checks: the common case, every packet of every station.

        Why: the general path asks the gate for an in-order scalar, then loops over what it
        admits through three more calls, each of which decides nothing for such a packet. Here
        the same steps run in the same order: the gate's duplicate check (packets are not
        held), :meth:`_apply` (late when older than the newest applied), the newest applied
        time, then the silence watch, which, not silent, only records the data time.
        """
        silence = self._silence
        if (
            reading.waveform is None
            or silence.silent
            or self._quality.specs
            or reading.station != self.station.id
        ):
            return super().update(reading)
        if not self._gate.admit(reading, hold=False):
            return []  # a redelivered packet
        ts, head = reading.ts, self._head_ts
        out = self._apply(reading, late=head is not None and ts < head)
        self._head_ts = ts if head is None or ts > head else head
        silence.saw(ts)
        return out

    def _edges(self, quantity: str) -> Array:
        """Every breakpoint of every rule's ladder for ``quantity``, ascending."""
        edges = {b for spec in self.rules for b in breakpoints(spec.ladder, quantity)}
        return np.array(sorted(edges), dtype=np.float64)

    def _walk(
        self,
        quantity: str,
        edges: Array,
        times: list[float],
        values: Array,
        source_ts: float,
        evidence_at: Callable[[int], dict[str, Any]],
    ) -> list[Finding]:
        """Evaluate at each run start of equal breakpoint band, and where a dwell ends."""
        if not times:
            return []
        if self._quiet(values):
            # every rule at none (or not yet graded) and no sample reaching any rung: only the
            # first sample can change anything (unknown → none)
            first: list[Finding] = []
            if any(t.state.grade is Grade.UNKNOWN for t in self._tracks.values()):
                first = self._step(
                    {quantity: float(values[0])},
                    self._at(times[0]),
                    source_ts=source_ts,
                    late=self._eval_ts is not None and times[0] < self._eval_ts,
                    evidence=evidence_at(0),
                )
            self._eval_ts = self._at(times[-1])
            return first
        old = self._eval_ts
        starts = _run_starts(edges, values)
        if old is not None:  # late samples (more alarming only) never share a run with fresh ones
            fresh = bisect.bisect_left(times, old)
            if 0 < fresh < len(times) and fresh not in starts:
                bisect.insort(starts, fresh)
        ends = [*starts[1:], len(times)]
        out: list[Finding] = []
        for start, end in zip(starts, ends, strict=True):
            k = start
            while k < end:
                t = times[k]
                late = old is not None and t < old
                out.extend(
                    self._step(
                        {quantity: float(values[k])},
                        self._at(t),
                        source_ts=source_ts,
                        late=late,
                        evidence=evidence_at(k),
                    )
                )
                due = None if late else self._next_due()
                if due is None:
                    break
                k = bisect.bisect_left(times, due, k + 1, end)
        # every sample up to the last has been graded (skipped ones could not change the state)
        self._eval_ts = self._at(times[-1])
        return out

    def _quiet(self, values: Array) -> bool:
        """No rule is at a warning grade (nor dwelling) and no value reaches any rung."""
        return self._quiet_scalar(peak(values))

    def _quiet_scalar(self, peak: float) -> bool:
        """:meth:`_quiet` for the largest value of a packet."""
        lowest = self._lowest_enter
        if lowest is None:
            lowest = self._lowest_enter = min(
                (r.enter for spec in self.rules for r in spec.ladder.rungs), default=0.0
            )
        if not peak < lowest:  # NaN (warming up) is not quiet either
            return False
        for track in self._tracks.values():  # a loop: all() over a generator cost more here
            state = track.state
            if state.below_since is not None or state.grade not in _UNRAISED:
                return False
        return True

    def _settle_quiet(self, last_t: float) -> bool:
        """For a packet :meth:`_quiet` said is quiet: when every rule already has a grade, move
        the ladder's clock to the packet's last sample (``last_t``) and return True; the
        caller then builds no per-sample series at all.

        Why: this is what :meth:`_walk` does with a quiet packet once no rule waits for its
        first grade (unknown → none), and it is the case of almost every packet of every
        station; building times, values and evidence for it cost more than the filters.
        """
        for track in self._tracks.values():
            if track.state.grade is Grade.UNKNOWN:
                return False  # the first sample grades it: :meth:`_walk` does that
        self._eval_ts = self._at(last_t)
        return True

    def _next_due(self) -> float | None:
        """The earliest time a running dwell ends (None: no dwell running)."""
        due = None
        for spec, key, _ in self._plan:
            state = self._tracks[key].state
            if state.below_since is None:
                continue  # no dwell (what step_down_due answers first, without the call)
            d = step_down_due(spec.ladder, state)
            if d is not None and (due is None or d < due):
                due = d
        return due


def peak(values: Array) -> float:
    """``float(np.max(values))`` of a non-empty array: NaN when any value is NaN.

    Why ``argmax``: a C method without a reduction's set-up, half the time of
    ``np.maximum.reduce`` on a 100-sample packet (two or three per packet). It returns the
    index of the first NaN when there is one, else of the first largest value: the same number.

    >>> peak(np.array([0.5, 2.0, 1.0])), peak(np.array([0.5, np.nan, 3.0]))
    (2.0, nan)
    """
    return float(values.item(values.argmax()))


def _run_starts(edges: Array, values: Array) -> list[int]:
    """Indices where a run of values in the same band between ``edges`` begins (0 first).

    Why not ``np.diff`` (nor ``np.flatnonzero``): their wrappers cost as much as the
    comparison on 100 samples, and this runs for every packet of a station above a rung.

    >>> _run_starts(np.array([1.0, 2.0]), np.array([0.5, 0.7, 1.5, 1.6, 0.1]))
    [0, 2, 4]
    """
    bands = edges.searchsorted(values, side="right")
    return [0, *((bands[1:] != bands[:-1]).nonzero()[0] + 1).tolist()]
