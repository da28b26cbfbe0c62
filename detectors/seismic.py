"""Strong motion: instrumental intensity from peak ground acceleration, graded per sample.

Kernels (plain numpy functions, units in the names):

- :func:`trailing_pga` — PGA(t) = max |a| over the trailing ``pga_window_s`` (default 1 s,
  project default), carried across packets of a channel, so a trace cut into packets of any
  size gives exactly the same series. :func:`trailing_pga_reference` is the slow reference.
- :func:`intensity` — GB/T 17742-2020 Appendix A, PGA term: ``I = slope·lg(PGA) + intercept``
  with PGA in m/s² (the rule's params ``intensity_slope`` 3.17 and ``intensity_intercept``
  6.59), clipped to the scale's 1.0–12.0. Simplification, stated: the standard's PGA is that of
  the vector sum of the three components after 0.1–10 Hz filtering and it combines the PGA term
  with a PGV term; here each horizontal channel's unfiltered peak is used on its own, which
  reads up to lg √2 · 3.17 ≈ 0.48 lower than the vector peak would.

Deciding: the ``intensity`` ladder is applied as if to every sample, in event time (a sample's
event time is ``t0 + i / sr_hz``). Only samples where the result can change are evaluated: where
the value crosses one of the ladder's :func:`~detectors.ladder.breakpoints`, and where a running
dwell ends (:func:`~detectors.ladder.step_down_due`). A raise therefore happens at the first
sample reaching the rung, which is the peak so far: the finding's ``ts`` is that sample's time,
``value`` its intensity, and the evidence carries ``pga_ms2`` (that peak), ``peak_ts``, the
channel and the packet's own peak (``packet_pga_ms2``, ``packet_intensity``).

Channels: horizontal ones (``*N``/``*E``, or ``*1``/``*2``) are graded; a vertical one (``*Z``,
``*3``) only while the station has not delivered any horizontal channel, and the evidence then
says ``component: "Z (no horizontal channel)"``. All channels feed one ladder per rule (the
station's intensity is the largest of its channels'). The ladder's clock never goes back: a
sample older than the newest sample already graded (another channel's packet for the same
second) is evaluated at that time as late data, which may raise or cancel a pending step-down
but never lowers a grade; its ``peak_ts`` stays in the evidence. Packets are not held for
``seq`` order (the early-warning budget has no room for it). Sample times are
``t0 + i / sr_hz``.

>>> float(intensity(np.array([1.0]), 3.17, 6.59)[0])   # 1 m/s² → 6.59
6.59
>>> trailing_pga(np.abs([0.0, -3.0, 1.0, 0.5]), np.array([]), width=2)
array([0., 3., 3., 1.])
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
from scipy.ndimage import maximum_filter1d

from detectors.ladder import breakpoints, quantities, step_down_due
from detectors.station import StationDetector
from yujing.contracts import ConfigError, Finding, Reading, Waveform

if TYPE_CHECKING:  # imported for annotations only: yujing.config imports detectors.ladder
    from yujing.config.ladders import RuleSpec
    from yujing.config.stations import StationSpec

__all__ = [
    "IntensityDetector",
    "component",
    "intensity",
    "trailing_pga",
    "trailing_pga_reference",
]

Array = npt.NDArray[np.float64]
QUANTITY = "intensity"
PGA_WINDOW_S_DEFAULT = 1.0
PGA_FLOOR_MS2 = 1e-12  # lg(0) has no value; far below any rung after clipping to 1.0


def component(channel: str) -> str | None:
    """``"horizontal"``, ``"vertical"`` or None, from the last letter of a SEED channel code."""
    last = channel[-1:].upper()
    if last in ("N", "E", "1", "2"):
        return "horizontal"
    if last in ("Z", "3"):
        return "vertical"
    return None


def intensity(pga_ms2: Array, slope: float, intercept: float) -> Array:
    """Instrumental intensity ``slope·lg(PGA) + intercept`` (PGA in m/s²), clipped to 1–12."""
    lg = np.log10(np.maximum(pga_ms2, PGA_FLOOR_MS2))
    return np.clip(slope * lg + intercept, 1.0, 12.0)


def trailing_pga(abs_samples: Array, tail: Array, width: int) -> Array:
    """``max(|a[i-width+1..i]|)`` for each sample, ``tail`` being the previous packet's last
    ``width - 1`` absolute samples (empty at a channel's start or after a gap). Inputs are
    absolute values; returns one value per sample of ``abs_samples``."""
    joined = np.concatenate((tail, abs_samples)) if tail.size else abs_samples
    out = maximum_filter1d(joined, size=width, origin=(width - 1) // 2, mode="nearest")
    return np.asarray(out[tail.size :], dtype=np.float64)


def trailing_pga_reference(abs_samples: Array, tail: Array, width: int) -> Array:
    """Slow reference for :func:`trailing_pga`: the definition, one sample at a time."""
    joined = list(tail) + list(abs_samples)
    start = len(tail)
    return np.array(
        [max(joined[max(0, i - width + 1) : i + 1]) for i in range(start, len(joined))],
        dtype=np.float64,
    )


@dataclass(slots=True)
class _Channel:
    sr_hz: float
    next_t: float  # event time just after the last sample taken
    tail: Array  # last (width - 1) absolute samples


def _number(params: Any, name: str, rule: str, default: float | None = None) -> float:
    value = params.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"rule {rule!r}: param {name} must be a number, got {value!r}")
    return float(value)


class IntensityDetector(StationDetector):
    """Accelerometer packets → per-sample PGA → intensity → the ``intensity`` ladder."""

    family = "seismic"
    holds = False

    def __init__(self, station: StationSpec, rules: Sequence[RuleSpec]) -> None:
        super().__init__(station, rules)
        first = self.rules[0]
        self.slope = _number(first.params, "intensity_slope", first.rule)
        self.intercept = _number(first.params, "intensity_intercept", first.rule)
        self.pga_window_s = _number(first.params, "pga_window_s", first.rule, PGA_WINDOW_S_DEFAULT)
        edges = sorted({b for spec in self.rules for b in breakpoints(spec.ladder, QUANTITY)})
        self._edges = np.array(edges, dtype=np.float64)
        self._channels: dict[str, _Channel] = {}
        self._horizontal_seen = False

    def _check(self) -> None:
        if not self.rules:
            raise ConfigError(f"station {self.station.id}: no intensity rule to grade")
        for spec in self.rules:
            if quantities(spec.ladder) != (QUANTITY,):
                raise ConfigError(
                    f"station {self.station.id}: rule {spec.rule!r} must read only "
                    f"{QUANTITY!r}, reads {', '.join(quantities(spec.ladder))}"
                )
        for name in ("intensity_slope", "intensity_intercept", "pga_window_s"):
            values = {spec.params.get(name) for spec in self.rules}
            if len(values) > 1:
                raise ConfigError(
                    f"station {self.station.id}: intensity rules disagree on {name}: {values}"
                )

    def _apply(self, reading: Reading, *, late: bool) -> list[Finding]:
        wave = reading.waveform
        if wave is None or wave.samples.size == 0 or wave.sr_hz <= 0:
            return []
        kind = component(wave.channel)
        if kind == "horizontal":
            self._horizontal_seen = True
        elif kind is None or self._horizontal_seen:
            return []
        pga = self._pga(wave)
        values = intensity(pga, self.slope, self.intercept)
        times = wave.t0 + np.arange(wave.samples.size, dtype=np.float64) / wave.sr_hz
        packet_pga = float(np.max(np.abs(wave.samples)))
        base = {
            "channel": wave.channel,
            "component": "horizontal" if kind == "horizontal" else "Z (no horizontal channel)",
            "packet_pga_ms2": packet_pga,
            "packet_intensity": float(
                intensity(np.array([packet_pga]), self.slope, self.intercept)[0]
            ),
        }
        return self._walk(times.tolist(), values, pga, reading.ts, base)

    def _pga(self, wave: Waveform) -> Array:
        """Trailing PGA per sample, continuing the channel's window when the packet follows on."""
        width = max(1, round(self.pga_window_s * wave.sr_hz))
        magnitude = np.abs(np.asarray(wave.samples, dtype=np.float64))
        state = self._channels.get(wave.channel)
        half_sample = 0.5 / wave.sr_hz
        if state is not None and wave.t0 < state.next_t - half_sample:
            # an old packet (overlap or out of order): graded on its own, channel state untouched
            return trailing_pga(magnitude, np.empty(0), width)
        follows = (
            state is not None
            and state.sr_hz == wave.sr_hz
            and abs(wave.t0 - state.next_t) <= half_sample
        )
        tail = state.tail if state is not None and follows else np.empty(0)
        pga = trailing_pga(magnitude, tail, width)
        joined = np.concatenate((tail, magnitude))
        self._channels[wave.channel] = _Channel(
            wave.sr_hz, wave.end, joined[max(0, joined.size - (width - 1)) :].copy()
        )
        return pga

    def _walk(
        self,
        times: list[float],
        values: Array,
        pga: Array,
        source_ts: float,
        base: dict[str, Any],
    ) -> list[Finding]:
        """Evaluate at each run start of equal breakpoint band, and where a dwell ends."""
        old = self._eval_ts
        bands = np.searchsorted(self._edges, values, side="right")
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
                evidence = {**base, "pga_ms2": float(pga[k]), "peak_ts": t}
                out.extend(
                    self._step(
                        {QUANTITY: float(values[k])},
                        self._at(t),
                        source_ts=source_ts,
                        late=late,
                        evidence=evidence,
                    )
                )
                due = None if late else self._next_due()
                if due is None:
                    break
                k = bisect.bisect_left(times, due, k + 1, end)
        # every sample up to the last has been graded (skipped ones could not change the state)
        self._eval_ts = self._at(times[-1])
        return out

    def _next_due(self) -> float | None:
        dues = [
            d
            for spec, key, _ in self._plan
            if (d := step_down_due(spec.ladder, self._tracks[key].state)) is not None
        ]
        return min(dues, default=None)

    def _snapshot_extra(self) -> dict[str, Any]:
        return {
            "horizontal_seen": self._horizontal_seen,
            "channels": {
                name: {"sr_hz": c.sr_hz, "next_t": c.next_t, "tail": c.tail.tolist()}
                for name, c in self._channels.items()
            },
        }

    def _restore_extra(self, extra: dict[str, Any]) -> None:
        self._horizontal_seen = bool(extra["horizontal_seen"])
        self._channels = {
            name: _Channel(c["sr_hz"], c["next_t"], np.asarray(c["tail"], dtype=np.float64))
            for name, c in extra["channels"].items()
        }
