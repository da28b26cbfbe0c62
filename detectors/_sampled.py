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
from yujing.contracts import Finding, Grade

__all__ = ["SampledDetector"]

Array = npt.NDArray[np.float64]


class SampledDetector(StationDetector):
    """Base for detectors whose packets carry one value per sample (see the module docstring)."""

    holds = False  # packets are not held for seq order (the early-warning budget has no room)
    _lowest_enter: float | None = None  # the lowest rung of all rules, computed once

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
        bands = np.searchsorted(edges, values, side="right")
        cuts = {0, *(np.flatnonzero(np.diff(bands)) + 1).tolist()}
        if old is not None:  # late samples (more alarming only) never share a run with fresh ones
            cuts.add(bisect.bisect_left(times, old))
        starts = sorted(c for c in cuts if c < len(times))
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
        return self._quiet_scalar(float(np.max(values)))

    def _quiet_scalar(self, peak: float) -> bool:
        """:meth:`_quiet` for the largest value of a packet."""
        lowest = self._lowest_enter
        if lowest is None:
            lowest = self._lowest_enter = min(
                (r.enter for spec in self.rules for r in spec.ladder.rungs), default=0.0
            )
        if not peak < lowest:  # NaN (warming up) is not quiet either
            return False
        return all(
            t.state.grade in (Grade.NONE, Grade.UNKNOWN) and t.state.below_since is None
            for t in self._tracks.values()
        )

    def _next_due(self) -> float | None:
        dues = [
            d
            for spec, key, _ in self._plan
            if (d := step_down_due(spec.ladder, self._tracks[key].state)) is not None
        ]
        return min(dues, default=None)
