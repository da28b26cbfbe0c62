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

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
from scipy.ndimage import maximum_filter1d

from detectors._sampled import SampledDetector, peak
from detectors.ladder import quantities
from yujing.contracts import ConfigError, Finding, Reading, Waveform

if TYPE_CHECKING:  # imported for annotations only: yujing.config imports detectors.ladder
    from yujing.config.ladders import RuleSpec
    from yujing.config.stations import StationSpec

__all__ = [
    "IntensityDetector",
    "component",
    "degree_table",
    "intensity",
    "sample_offsets",
    "trailing_pga",
    "trailing_pga_reference",
]

Array = npt.NDArray[np.float64]
QUANTITY = "intensity"
PGA_WINDOW_S_DEFAULT = 1.0
PGA_FLOOR_MS2 = 1e-12  # lg(0) has no value; far below any rung after clipping to 1.0
_EMPTY: Array = np.empty(0)
_EMPTY.flags.writeable = False


@lru_cache(maxsize=1024)  # a handful of codes, asked for by two detectors per packet
def component(channel: str) -> str | None:
    """``"horizontal"``, ``"vertical"`` or None, from the last letter of a SEED channel code."""
    last = channel[-1:].upper()
    if last in ("N", "E", "1", "2"):
        return "horizontal"
    if last in ("Z", "3"):
        return "vertical"
    return None


@lru_cache(maxsize=64)
def sample_offsets(n: int, sr_hz: float) -> Array:
    """``np.arange(n) / sr_hz``: sample ``i``'s time after a packet's ``t0`` (read-only).

    Why cached: every packet above a rung needs its sample times, and packets of one network
    share a handful of (length, rate) pairs; ``t0 + offsets`` gives the same values as
    computing the offsets each time.
    """
    offsets = np.arange(n, dtype=np.float64) / sr_hz
    offsets.flags.writeable = False
    return offsets


def intensity(pga_ms2: Array, slope: float, intercept: float) -> Array:
    """Instrumental intensity ``slope·lg(PGA) + intercept`` (PGA in m/s²), clipped to 1–12."""
    lg = np.log10(np.maximum(pga_ms2, PGA_FLOOR_MS2))
    # np.clip's values, without its Python wrapper (this runs per raised packet)
    return np.minimum(np.maximum(slope * lg + intercept, 1.0), 12.0)


def degree_table(slope: float, intercept: float) -> list[tuple[int, float, float]]:
    """The scale as a table: (degree, lowest PGA, highest PGA) in m/s², degree ``n`` covering
    ``n - 0.5 <= I < n + 0.5`` (GB/T 17742-2020; the rungs of ``configs/ladders/seismic.yaml``
    sit at the lower edges).

    >>> [(n, round(lo, 2), round(hi, 2)) for n, lo, hi in degree_table(3.17, 6.59)[3:7]]
    [(4, 0.11, 0.22), (5, 0.22, 0.45), (6, 0.45, 0.94), (7, 0.94, 1.94)]
    """
    return [
        (n, 10 ** ((n - 0.5 - intercept) / slope), 10 ** ((n + 0.5 - intercept) / slope))
        for n in range(1, 13)
    ]


def trailing_pga(abs_samples: Array, tail: Array, width: int) -> Array:
    """``max(|a[i-width+1..i]|)`` for each sample, ``tail`` being the previous packet's last
    ``width - 1`` absolute samples (empty at a channel's start or after a gap). Inputs are
    absolute values; returns one value per sample of ``abs_samples``."""
    if 0 < tail.size == width - 1 and 0 < abs_samples.size <= width:
        return _trailing_pga_one_window(abs_samples, tail)
    joined = np.concatenate((tail, abs_samples)) if tail.size else abs_samples
    out = maximum_filter1d(joined, size=width, origin=(width - 1) // 2, mode="nearest")
    return np.asarray(out[tail.size :], dtype=np.float64)


def _trailing_pga_one_window(abs_samples: Array, tail: Array) -> Array:
    """:func:`trailing_pga` when the tail is a full window and the packet at most one window
    long (1 s packets, 1 s window): every sample's window then holds the packet's first sample,
    so its peak is the larger of the packet's running peak up to it and the tail's peak from
    it on. Two accumulations instead of a sliding filter (a third of the time per packet);
    a maximum is exact, so the values are the filter's. NaN falls back to the filter, which
    treats it its own way."""
    ahead = np.maximum.accumulate(abs_samples)
    behind = np.maximum.accumulate(tail[::-1])[::-1]  # behind[i] = max(tail[i:])
    if np.isnan(ahead[-1]) or np.isnan(behind[0]):
        width = tail.size + 1
        joined = np.concatenate((tail, abs_samples))
        out = maximum_filter1d(joined, size=width, origin=(width - 1) // 2, mode="nearest")
        return np.asarray(out[tail.size :], dtype=np.float64)
    n = min(abs_samples.size, tail.size)
    ahead[:n] = np.maximum(ahead[:n], behind[:n])
    return ahead


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
    tail_peak: float  # the largest of ``tail`` (0.0 when empty)


def _number(params: Any, name: str, rule: str, default: float | None = None) -> float:
    value = params.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"rule {rule!r}: param {name} must be a number, got {value!r}")
    return float(value)


class IntensityDetector(SampledDetector):
    """Accelerometer packets → per-sample PGA → intensity → the ``intensity`` ladder."""

    family = "seismic"

    def __init__(self, station: StationSpec, rules: Sequence[RuleSpec]) -> None:
        super().__init__(station, rules)
        first = self.rules[0]
        self.slope = _number(first.params, "intensity_slope", first.rule)
        self.intercept = _number(first.params, "intensity_intercept", first.rule)
        self.pga_window_s = _number(first.params, "pga_window_s", first.rule, PGA_WINDOW_S_DEFAULT)
        self._edges_q = self._edges(QUANTITY)
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

    def update(self, reading: Reading) -> list[Finding]:
        wave = reading.waveform
        if (
            wave is not None
            and self._horizontal_seen
            and reading.station == self.station.id
            and component(wave.channel) == "vertical"
            and self._took_vertical(reading.ts)
        ):
            return []  # the hot path: a third of a 3-channel station's packets
        return super().update(reading)

    def _took_vertical(self, ts: float) -> bool:
        """Take a vertical packet (ungraded once a horizontal channel is seen) without the
        gates, when that is all the gates would do with it: no quality checks, not silent.

        Why: the gates would pass it to :meth:`_apply`, which drops it, having recorded its data
        time (so the station is not called silent while it sends) and its event time. Both are
        recorded here the same way. Not remembering it for the duplicate check changes nothing:
        a redelivery's times are already recorded, and it would be dropped all the same.
        """
        silence = self._silence
        if silence.silent or self._quality.specs:
            return False
        silence.saw(ts)  # not silent: only moves the newest data time
        head = self._head_ts
        self._head_ts = ts if head is None or ts > head else head
        return True

    def _apply(self, reading: Reading, *, late: bool) -> list[Finding]:
        wave = reading.waveform
        if wave is None or wave.samples.size == 0 or wave.sr_hz <= 0:
            return []
        kind = component(wave.channel)
        if kind == "horizontal":
            self._horizontal_seen = True
        elif kind is None or self._horizontal_seen:
            return []
        magnitude = np.abs(np.asarray(wave.samples, dtype=np.float64))
        state = self._channels.get(wave.channel)
        old = state is not None and wave.t0 < state.next_t - 0.5 / wave.sr_hz
        tail = _EMPTY if old else self._tail(state, wave)
        packet_pga = peak(magnitude)
        tail_peak = state.tail_peak if state is not None and tail is state.tail else 0.0
        if not old:  # an old packet is graded on its own (no tail), and not carried
            self._carry(wave, magnitude, packet_pga, tail, state)
        peak_intensity = self._intensity_of(max(packet_pga, tail_peak))
        if self._quiet_scalar(peak_intensity):
            # nothing reaches a rung and nothing is raised: the first sample's value is all the
            # ladder can use (unknown → none); the per-sample series is not needed
            last_t = wave.t0 + (wave.samples.size - 1) / wave.sr_hz
            if self._settle_quiet(last_t):
                return []
            first = max(tail_peak, float(magnitude[0]))
            pga = np.array([first, first])
            values = np.full(2, self._intensity_of(first))
            times = [float(wave.t0), last_t]
        else:
            pga = trailing_pga(magnitude, tail, self._width(wave.sr_hz))
            values = intensity(pga, self.slope, self.intercept)
            times = (wave.t0 + sample_offsets(wave.samples.size, wave.sr_hz)).tolist()
        evidence = {
            "channel": wave.channel,
            "component": "horizontal" if kind == "horizontal" else "Z (no horizontal channel)",
            "packet_pga_ms2": packet_pga,
            "packet_intensity": self._intensity_of(packet_pga),
        }
        return self._grade(pga, values, times, reading.ts, evidence)

    def _grade(
        self, pga: Array, values: Array, times: list[float], ts: float, evidence: dict[str, Any]
    ) -> list[Finding]:
        """Walk the ladder over a packet's intensities; each step's evidence is the packet's
        plus the PGA and time of the sample stepped (built only for those)."""

        def evidence_at(k: int) -> dict[str, Any]:
            return {**evidence, "pga_ms2": float(pga[k]), "peak_ts": times[k]}

        return self._walk(QUANTITY, self._edges_q, times, values, ts, evidence_at)

    def _intensity_of(self, pga_ms2: float) -> float:
        """:func:`intensity` of one value, in plain floats (the same numbers, less overhead)."""
        lg = math.log10(max(pga_ms2, PGA_FLOOR_MS2))
        return min(12.0, max(1.0, self.slope * lg + self.intercept))

    def _width(self, sr_hz: float) -> int:
        """The PGA window in samples at ``sr_hz`` (at least one)."""
        return max(1, round(self.pga_window_s * sr_hz))

    @staticmethod
    def _tail(state: _Channel | None, wave: Waveform) -> Array:
        """The channel's last samples when this packet follows on from its previous one, else
        empty (a new channel, a gap, a new sampling rate)."""
        if (
            state is not None
            and state.sr_hz == wave.sr_hz
            and abs(wave.t0 - state.next_t) <= 0.5 / wave.sr_hz
        ):
            return state.tail
        return _EMPTY

    def _carry(
        self,
        wave: Waveform,
        magnitude: Array,
        packet_pga: float,
        tail: Array,
        state: _Channel | None,
    ) -> None:
        """Keep the channel's last ``width - 1`` absolute samples for the next packet, and
        their peak (the caller skips an old packet, which is graded on its own). The state is
        updated in place: a packet at a time, no allocation beyond the new tail."""
        keep = self._width(wave.sr_hz) - 1
        if magnitude.size >= keep:  # the packet alone covers the window (1 s packets)
            cut = magnitude.size - keep
            kept = magnitude[cut:]
            kept_peak = _kept_peak(kept, magnitude, cut, packet_pga)
        else:
            joined = np.concatenate((tail, magnitude)) if tail.size else magnitude
            kept = joined[max(0, joined.size - keep) :].copy()
            kept_peak = peak(kept) if kept.size else 0.0
        if state is None:
            self._channels[wave.channel] = _Channel(wave.sr_hz, wave.end, kept, kept_peak)
        else:
            state.sr_hz, state.next_t, state.tail = wave.sr_hz, wave.end, kept
            state.tail_peak = kept_peak

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
        self._channels = {}
        for name, c in extra["channels"].items():
            tail = np.asarray(c["tail"], dtype=np.float64)
            self._channels[name] = _Channel(
                c["sr_hz"], c["next_t"], tail, peak(tail) if tail.size else 0.0
            )


def _kept_peak(kept: Array, magnitude: Array, cut: int, packet_pga: float) -> float:
    """The largest of ``kept = magnitude[cut:]``, given ``packet_pga``, the largest of
    ``magnitude``.

    Why: the next packet needs the tail's peak, a scan. With 1 s packets and a 1 s window
    only the packet's first sample is cut off; when it is smaller than the packet's peak, that
    peak is in the tail. Otherwise (the peak first, a NaN) the tail is scanned.
    """
    if not kept.size:
        return 0.0
    if cut == 0 or (cut == 1 and magnitude.item(0) < packet_pga):
        return packet_pga
    return peak(kept)
