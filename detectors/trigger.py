"""P-wave trigger per seismic station: causal band-pass → recursive STA/LTA → on/off.

The kernels are in :mod:`detectors.stalta`; this detector carries their state per channel across
packets and turns the ratio into the ``earthquake/trigger`` rule's grade with the one ladder
engine. The rule's single rung *is* the trigger: ``on_ratio`` is its ``enter`` and
``off_ratio = enter - hysteresis`` (dwell 0), so the grade turns blue at the first sample whose
ratio reaches ``on_ratio`` (the pick: the finding's ``ts``) and back to ``none`` at the first
sample below ``off_ratio``. Parameters (the rule's ``params``, units in the names): ``sta_s``,
``lta_s``, ``bandpass_low_hz``, ``bandpass_high_hz``, ``bandpass_order`` and ``flat_gap_s``.

Which channel
    The vertical one (``*Z``/``*3``), where P is strongest; until a station has delivered a
    vertical channel, the first channel it delivered. Other channels are not filtered at all.

Warm-up and gaps
    The ratio is unknown until the recursion has taken ``lta_s`` of samples; the rule publishes
    nothing before (never ``none``). A packet that does not follow on from the previous one
    (a gap of more than half a sample, a new sampling rate) restarts the channel: filter and
    averages start afresh and the rule turns ``unknown`` until warmed up again. So does a run of
    exactly equal samples longer than ``flat_gap_s`` (a telemetry gap filled with zeros
    upstream): its step back to live noise would otherwise look like an onset. A packet older
    than what the channel already took is ignored (a recursive filter cannot go back).

Triggers are evidence for :mod:`detectors.network` (coincidence over stations), which consumes
them; one station's trigger never reaches the alert book on its own.

>>> from pathlib import Path
>>> from yujing.config import load_ladders
>>> from yujing.config.stations import StationSpec
>>> from yujing.contracts import Kind, Reading, Waveform
>>> book = load_ladders(Path(__file__).parents[1] / "configs" / "ladders")
>>> site = StationSpec("Q1", "", Kind.SEISMIC, "d1", 0.0, 0.0, interval_s=1.0)
>>> picker = StaLtaDetector(site, [r for r in book.for_station(site) if r.rule == "trigger"])
>>> noise = np.random.default_rng(0).normal(size=(30, 100))
>>> noise[20, 50:] *= 40.0                                   # an onset at 20.5 s
>>> found = []
>>> for second, block in enumerate(noise):
...     wave = Waveform("HHZ", 100.0, float(second), block)
...     found += picker.update(Reading("Q1", Kind.SEISMIC, "d1", float(second), second, {},
...                                    waveform=wave))
>>> [(f.grade.value, f.ts) for f in found]
[('none', 10.0), ('blue', 20.53), ('none', 23.43)]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from detectors._sampled import SampledDetector, peak
from detectors.ladder import quantities
from detectors.seismic import component, sample_offsets
from detectors.stalta import CausalBandpass, RecursiveStaLta, StaLtaState, window_samples
from yujing.contracts import ConfigError, Finding, Reading, Waveform

if TYPE_CHECKING:  # imported for annotations only: yujing.config imports detectors.ladder
    from yujing.config.ladders import RuleSpec
    from yujing.config.stations import StationSpec

__all__ = ["QUANTITY", "StaLtaDetector", "TriggerSettings", "flat_mask", "no_long_run"]

Array = npt.NDArray[np.float64]
QUANTITY = "sta_lta"
FLAT_GAP_S_DEFAULT = 0.5
_NO_DEAD = np.zeros(4096, dtype=np.bool_)
_NO_DEAD.flags.writeable = False
BANDPASS_ORDER_DEFAULT = 4


@dataclass(frozen=True, slots=True)
class TriggerSettings:
    """The trigger rule's parameters, units in the names."""

    sta_s: float
    lta_s: float
    bandpass_low_hz: float
    bandpass_high_hz: float
    bandpass_order: int
    flat_gap_s: float
    on_ratio: float
    off_ratio: float

    @classmethod
    def from_rule(cls, spec: RuleSpec) -> TriggerSettings:
        def number(name: str, default: float | None = None) -> float:
            value = spec.params.get(name, default)
            if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
                raise ConfigError(
                    f"rule {spec.rule!r}: param {name} must be a number > 0, got {value!r}"
                )
            return float(value)

        rung = spec.ladder.rungs[0]
        return cls(
            sta_s=number("sta_s"),
            lta_s=number("lta_s"),
            bandpass_low_hz=number("bandpass_low_hz"),
            bandpass_high_hz=number("bandpass_high_hz"),
            bandpass_order=int(number("bandpass_order", BANDPASS_ORDER_DEFAULT)),
            flat_gap_s=number("flat_gap_s", FLAT_GAP_S_DEFAULT),
            on_ratio=rung.enter,
            off_ratio=rung.enter - rung.hysteresis,
        )


def no_long_run(samples: Array, previous: float | None, run: int, min_run: int) -> bool:
    """True when no run of equal samples can reach ``min_run`` and the last sample starts a
    run of its own: then no sample is flat and :func:`flat_mask` would carry on a run of 1
    (its fast case, tested alone so a live packet needs no mask at all). ``previous`` and
    ``run`` are the run carried in from the previous packet, as for :func:`flat_mask`.

    Why: quantised quiet noise repeats a value now and then (a third of the packets of the
    seismic benchmark), and this count answers for them without the run lengths. A run holds
    one more sample than it has samples equal to the one before, plus the carried ``run``
    when it goes on from the previous packet, so ``run + repeats`` (or ``1 + repeats``)
    bounds every run. ``np.count_nonzero`` rather than ``.any()``: no Python wrapper.
    """
    first = previous is not None and samples.item(0) == previous
    repeats = first + int(np.count_nonzero(samples[1:] == samples[:-1]))
    if repeats == 0:
        return True
    longest = (run if first else 1) + repeats
    return samples.size > 1 and longest < min_run and samples.item(-1) != samples.item(-2)


def flat_mask(
    samples: Array, previous: float | None, run: int, min_run: int
) -> tuple[npt.NDArray[np.bool_], float, int]:
    """Which samples sit in a run of exactly equal values at least ``min_run`` long (counting
    the run carried in from the previous packet: its ``previous`` value and length ``run``).

    Returns the mask and the (value, run length) to carry on.

    >>> mask, value, run = flat_mask(np.array([0.0, 0.0, 0.0, 1.0, 2.0]), 0.0, 1, 3)
    >>> mask.tolist(), value, run
    ([False, True, True, False, False], 2.0, 1)
    """
    n = samples.size
    if no_long_run(samples, previous, run, min_run):  # no (or a few scattered) repeats
        return (
            _NO_DEAD[:n] if n <= _NO_DEAD.size else np.zeros(n, dtype=np.bool_),
            float(samples[-1]),
            1,
        )
    same = np.empty(n, dtype=np.bool_)  # equal to the sample before (the first: ``previous``)
    same[0] = previous is not None and samples[0] == previous
    np.equal(samples[1:], samples[:-1], out=same[1:])
    # run length ending at each sample: 1 + number of equal predecessors
    index = np.arange(n)
    breaks = np.where(~same, index, -1)
    last_break = np.maximum.accumulate(breaks)
    carried = last_break < 0  # no break yet in this packet: the previous packet's run goes on
    lengths = np.where(carried, index + 1 + run, index - last_break + 1)
    mask = lengths >= min_run
    return mask, float(samples[-1]), int(lengths[-1])


@dataclass(slots=True)
class _Channel:
    sr_hz: float
    next_t: float
    bandpass: CausalBandpass
    stalta: RecursiveStaLta
    flat_value: float | None = None
    flat_run: int = 0


class StaLtaDetector(SampledDetector):
    """Seismic packets → band-passed recursive STA/LTA on the vertical channel → ``trigger``."""

    family = "trigger"

    def __init__(self, station: StationSpec, rules: Sequence[RuleSpec]) -> None:
        super().__init__(station, rules)
        self.settings = TriggerSettings.from_rule(self.rules[0])
        self._key = self._plan[0][1]
        self._edges_q = self._edges(QUANTITY)
        self._channel_name: str | None = None
        self._channel: _Channel | None = None
        self.ignored_packets = 0

    def _check(self) -> None:
        if len(self.rules) != 1:
            raise ConfigError(
                f"station {self.station.id}: exactly one trigger rule expected, got "
                f"{[r.rule for r in self.rules]}"
            )
        spec = self.rules[0]
        if quantities(spec.ladder) != (QUANTITY,) or len(spec.ladder.rungs) != 1:
            raise ConfigError(
                f"station {self.station.id}: rule {spec.rule!r} must have one rung reading "
                f"{QUANTITY!r} (enter = on_ratio, enter - hysteresis = off_ratio)"
            )

    def update(self, reading: Reading) -> list[Finding]:
        wave = reading.waveform
        if (
            wave is not None
            and self._channel_name is not None
            and wave.channel != self._channel_name
            and (
                component(self._channel_name) == "vertical" or component(wave.channel) != "vertical"
            )
            and reading.station == self.station.id
        ):
            return []  # a channel this detector does not filter: skip the gates too (hot path)
        return super().update(reading)

    # -- channel state -------------------------------------------------------------------------

    def _new_channel(self, sr_hz: float, t0: float) -> _Channel:
        return _Channel(sr_hz, t0, self._bandpass(sr_hz), self._stalta(sr_hz))

    def _bandpass(self, sr_hz: float) -> CausalBandpass:
        """The configured band, its top clipped to 0.9 × Nyquist for slowly sampled channels."""
        s = self.settings
        high = min(s.bandpass_high_hz, 0.45 * sr_hz)
        return CausalBandpass(s.bandpass_low_hz, high, sr_hz, s.bandpass_order)

    def _stalta(self, sr_hz: float) -> RecursiveStaLta:
        s = self.settings
        return RecursiveStaLta(
            window_samples(s.sta_s, sr_hz, "sta_s"), window_samples(s.lta_s, sr_hz, "lta_s")
        )

    def _chosen(self, channel: str) -> bool:
        """Is this the channel to trigger on? Switches to the first vertical channel seen."""
        if self._channel_name is None:
            self._channel_name = channel
        elif (
            channel != self._channel_name
            and component(channel) == "vertical"
            and (component(self._channel_name) != "vertical")
        ):
            self._channel_name, self._channel = channel, None
        return channel == self._channel_name

    def _apply(self, reading: Reading, *, late: bool) -> list[Finding]:
        wave = reading.waveform
        if wave is None or wave.samples.size == 0 or wave.sr_hz <= 0:
            return []
        if not self._chosen(wave.channel):
            return []
        out: list[Finding] = []
        state = self._channel
        half = 0.5 / wave.sr_hz
        if state is not None and wave.t0 < state.next_t - half:
            self.ignored_packets += 1  # overlap or out of order: the filter cannot go back
            return []
        if state is None or state.sr_hz != wave.sr_hz or wave.t0 > state.next_t + half:
            if state is not None:
                gap = wave.t0 - state.next_t
                out.extend(
                    self._blind(
                        [self._key],
                        wave.t0,
                        f"waveform gap of {gap:.2f} s: warming up again",
                        {"channel": wave.channel},
                    )
                )
            state = self._channel = self._new_channel(wave.sr_hz, wave.t0)
        samples = np.asarray(wave.samples, dtype=np.float64)
        min_run = max(2, round(self.settings.flat_gap_s * wave.sr_hz))
        was_dead = state.flat_run >= min_run
        if not was_dead and no_long_run(samples, state.flat_value, state.flat_run, min_run):
            # live (the common case): flat_mask would mask nothing and carry a run of 1
            state.flat_value, state.flat_run = float(samples[-1]), 1
            ratio = self._filter(state, samples)
        else:
            ratio = self._filter_dead(state, wave, samples, min_run, was_dead, out)
        state.next_t = wave.end
        highest = peak(ratio)  # NaN when any sample is (warming up)
        if self._quiet_scalar(highest):  # no NaN (warm), nothing near a rung
            last_t = wave.t0 + (ratio.size - 1) / wave.sr_hz
            if self._settle_quiet(last_t):
                return out
            times, values = [wave.t0, last_t], ratio[[0, -1]]  # two samples tell all
        elif highest == highest:  # warm: every sample has a ratio (``valid`` below would be all)
            times = (wave.t0 + sample_offsets(ratio.size, wave.sr_hz)).tolist()
            values = ratio
        else:
            valid = np.flatnonzero(~np.isnan(ratio))
            if valid.size == 0:
                return out
            times = (wave.t0 + valid / wave.sr_hz).tolist()
            values = ratio[valid]
        s = self.settings

        def evidence_at(k: int) -> dict[str, Any]:  # built only when a rule is stepped
            return {
                "channel": wave.channel,
                "sta_s": s.sta_s,
                "lta_s": s.lta_s,
                "on_ratio": s.on_ratio,
                "off_ratio": s.off_ratio,
            }

        out.extend(self._walk(QUANTITY, self._edges_q, times, values, reading.ts, evidence_at))
        return out

    def _filter(self, state: _Channel, samples: Array) -> Array:
        """Band-pass then STA/LTA ratio of one live stretch, carrying the channel's state."""
        return state.stalta.process_one(state.bandpass.process_one(samples))

    def _filter_dead(
        self,
        state: _Channel,
        wave: Waveform,
        samples: Array,
        min_run: int,
        was_dead: bool,
        out: list[Finding],
    ) -> Array:
        """The ratio of a packet that has (or follows) flat samples: NaN on dead stretches,
        each live stretch after one starting the channel afresh (its findings into ``out``)."""
        dead, state.flat_value, state.flat_run = flat_mask(
            samples, state.flat_value, state.flat_run, min_run
        )
        if not (was_dead or dead.any()):
            return self._filter(state, samples)
        ratio = np.full(samples.size, np.nan)
        for start, stop, after_dead in _live_segments(dead, was_dead):
            if after_dead:
                out.extend(self._restart(state, wave, wave.t0 + start / wave.sr_hz))
            ratio[start:stop] = self._filter(state, samples[start:stop])
        return ratio

    def _restart(self, state: _Channel, wave: Waveform, at: float) -> list[Finding]:
        state.bandpass.reset(0)
        state.stalta.reset(0)
        return self._blind(
            [self._key], at, "flat (dead) samples: warming up again", {"channel": wave.channel}
        )

    # -- snapshots -----------------------------------------------------------------------------

    def _snapshot_extra(self) -> dict[str, Any]:
        c = self._channel
        channel = None
        if c is not None:
            channel = {
                "sr_hz": c.sr_hz,
                "next_t": c.next_t,
                "zi": c.bandpass.zi.tolist(),
                "stalta": c.stalta.state.to_json(),
                "flat_value": c.flat_value,
                "flat_run": c.flat_run,
            }
        return {
            "channel_name": self._channel_name,
            "channel": channel,
            "ignored_packets": self.ignored_packets,
        }

    def _restore_extra(self, extra: dict[str, Any]) -> None:
        self._channel_name = extra["channel_name"]
        self.ignored_packets = int(extra["ignored_packets"])
        saved = extra["channel"]
        if saved is None:
            self._channel = None
            return
        channel = self._new_channel(float(saved["sr_hz"]), float(saved["next_t"]))
        channel.flat_value = saved["flat_value"]
        channel.flat_run = int(saved["flat_run"])
        channel.bandpass.zi = np.asarray(saved["zi"], dtype=np.float64)
        channel.stalta.state = StaLtaState.from_json(saved["stalta"])
        self._channel = channel


def _live_segments(dead: npt.NDArray[np.bool_], was_dead: bool) -> list[tuple[int, int, bool]]:
    """(start, stop, follows a dead stretch) for each run of live samples; ``was_dead`` says
    the previous packet ended in a dead stretch.

    >>> _live_segments(np.array([False, True, True, False, False]), True)
    [(0, 1, True), (3, 5, True)]
    """
    edges = np.flatnonzero(np.diff(np.concatenate(([True], dead, [True])).astype(np.int8)))
    starts, stops = edges[0::2], edges[1::2]
    return [(int(a), int(b), bool(a > 0 or was_dead)) for a, b in zip(starts, stops, strict=True)]
