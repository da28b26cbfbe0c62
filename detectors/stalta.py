"""Streaming kernels for P-wave triggering: causal band-pass and recursive STA/LTA.

Both are stateful filters over a *bank* of channels that share one sampling rate: the state of
each channel (filter memory, STA, LTA, samples taken) is carried from one block to the next, so a
trace fed whole or cut into packets of any size gives the same output. Blocks are arrays of shape
``(channels, samples)``; every channel of a bank is advanced by one vectorised call
(:func:`scipy.signal.lfilter` / :func:`scipy.signal.sosfilt` with their ``zi`` state).

Recursive STA/LTA (Withers et al. 1998, BSSA 88(1) p. 98; Trnkoczy 2012, NMSOP-2 IS 8.1), on
the squared signal ``e[i] = x[i]²``::

    sta[i] = e[i] / n_sta + (1 - 1 / n_sta) · sta[i-1]        n_sta = round(sta_s · sr_hz)
    lta[i] = e[i] / n_lta + (1 - 1 / n_lta) · lta[i-1]        n_lta = round(lta_s · sr_hz)
    ratio[i] = sta[i] / lta[i]

starting from ``sta = 0``, ``lta`` = the smallest positive float. As in ObsPy's reference
(``obspy.signal.trigger.recursive_sta_lta``) the channel's first sample only starts the
recursion, and the ratio is *unknown* (NaN here, never 0 = "quiet") until the recursion has
taken ``n_lta`` samples. After that warm-up the output equals ObsPy's on the whole trace (a
test pins it). :func:`recursive_sta_lta_reference` is the slow, obvious reference the fast path
is pinned to.

The band-pass is a Butterworth of ``order`` poles per corner in second-order sections, designed
exactly as ObsPy's ``bandpass(..., zerophase=False)`` designs it, and run causally (no
look-ahead; the initial state is zero), as one transfer function where that is as exact
(:class:`CausalBandpass`).

>>> bank = RecursiveStaLta(sta_samples=2, lta_samples=4, channels=1)
>>> bank.process(np.array([[1.0, 1.0, 1.0, 1.0, 3.0, 0.0]])).round(3)
array([[  nan,   nan,   nan,   nan, 1.84 , 1.227]])
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import numpy.typing as npt
from scipy.signal import iirfilter, lfilter, sos2tf, sosfilt

from yujing.contracts import ConfigError

try:  # lfilter's own kernel (scipy pinned in pyproject.toml); the public call if it moves
    from scipy.signal._sigtools import _linear_filter
except ImportError:  # pragma: no cover - another scipy
    _linear_filter = None

__all__ = [
    "LTA_START",
    "TF_TOLERANCE",
    "CausalBandpass",
    "RecursiveStaLta",
    "StaLtaState",
    "recursive_sta_lta_reference",
    "window_samples",
]

Array = npt.NDArray[np.float64]
LTA_START = float(np.finfo(np.float64).tiny)  # avoids 0/0 before the first sample
TF_TOLERANCE = 1e-8  # transfer-function form accepted when this close to the sections
PROBE_SAMPLES = 20_000


def lfilter_1d(b: Array, a: Array, x: Array, zi: Array) -> tuple[Array, Array]:
    """``scipy.signal.lfilter(b, a, x, zi=zi)`` for one 1-D float64 channel and ``len(a) > 1``.

    Why: per 1 s packet the public wrapper's argument checks cost 5-7 µs around a 1-2 µs
    kernel, three times per vertical packet. For ``len(a) > 1`` the wrapper passes its
    arguments to ``_linear_filter`` unchanged, so calling it directly gives the same bits
    (pinned by ``tests/unit/detectors/test_stalta.py``).
    """
    if _linear_filter is None:  # pragma: no cover - another scipy
        out, zf = lfilter(b, a, x, zi=zi)
        return np.asarray(out, dtype=np.float64), np.asarray(zf, dtype=np.float64)
    out, zf = _linear_filter(b, a, x, -1, zi)
    return out, zf


def window_samples(seconds: float, sr_hz: float, name: str) -> int:
    """A window length in seconds as a whole number of samples (at least 1)."""
    samples = round(seconds * sr_hz)
    if samples < 1:
        raise ConfigError(f"{name}: {seconds} s at {sr_hz} Hz is less than one sample")
    return samples


@dataclass(slots=True)
class StaLtaState:
    """Per-channel state of a :class:`RecursiveStaLta` bank (arrays of one value per channel).

    ``taken`` counts samples the recursion has used; ``started`` says whether the channel's
    first sample (which only starts the recursion) has been seen.
    """

    sta: Array
    lta: Array
    taken: npt.NDArray[np.int64]
    started: npt.NDArray[np.bool_]

    @classmethod
    def fresh(cls, channels: int) -> StaLtaState:
        return cls(
            np.zeros(channels),
            np.full(channels, LTA_START),
            np.zeros(channels, dtype=np.int64),
            np.zeros(channels, dtype=np.bool_),
        )

    def to_json(self) -> dict[str, list[float] | list[int] | list[bool]]:
        return {
            "sta": self.sta.tolist(),
            "lta": self.lta.tolist(),
            "taken": self.taken.tolist(),
            "started": self.started.tolist(),
        }

    @classmethod
    def from_json(cls, data: dict[str, list[float] | list[int] | list[bool]]) -> StaLtaState:
        return cls(
            np.asarray(data["sta"], dtype=np.float64),
            np.asarray(data["lta"], dtype=np.float64),
            np.asarray(data["taken"], dtype=np.int64),
            np.asarray(data["started"], dtype=np.bool_),
        )


class RecursiveStaLta:
    """Recursive STA/LTA over a bank of ``channels`` channels (see the module docstring).

    ``sta_samples`` and ``lta_samples`` are window lengths in samples (use
    :func:`window_samples` to convert from ``sta_s``/``lta_s``).
    """

    def __init__(self, sta_samples: int, lta_samples: int, channels: int = 1) -> None:
        if not 1 <= sta_samples < lta_samples:
            raise ConfigError(
                f"sta_samples {sta_samples} must be at least 1 and below lta_samples {lta_samples}"
            )
        self.sta_samples = sta_samples
        self.lta_samples = lta_samples
        self.state = StaLtaState.fresh(channels)
        c_sta, c_lta = 1.0 / sta_samples, 1.0 / lta_samples
        self._keep = (1.0 - c_sta, 1.0 - c_lta)
        self._b_sta, self._a_sta = np.array([c_sta]), np.array([1.0, -(1.0 - c_sta)])
        self._b_lta, self._a_lta = np.array([c_lta]), np.array([1.0, -(1.0 - c_lta)])

    def reset(self, channel: int) -> None:
        """Forget one channel's history (after a gap): it warms up again."""
        s = self.state
        s.sta[channel], s.lta[channel] = 0.0, LTA_START
        s.taken[channel], s.started[channel] = 0, False

    def process(self, block: Array) -> Array:
        """STA/LTA ratio for each sample of ``block`` (shape ``(channels, n)``); NaN while a
        channel warms up. Equal-length blocks of every channel go through in one call."""
        s = self.state
        if block.ndim != 2 or block.shape[0] != s.sta.size:
            raise ValueError(f"block shape {block.shape} does not fit {s.sta.size} channels")
        if block.shape[1] == 0:
            return np.empty(block.shape)
        if s.sta.size == 1:
            return self._one(block[0])[None, :]  # the common case, without the masks
        energy = np.square(block)
        ratio = np.full(block.shape, np.nan)
        # a channel's very first sample starts the recursion and is not filtered
        fresh = ~s.started
        s.started[:] = True
        first = np.where(fresh, 1, 0)
        if fresh.any() and not fresh.all():
            for channel in range(s.sta.size):  # mixed bank: rare (bank created, one channel new)
                self._run(energy[channel : channel + 1, first[channel] :], ratio, channel)
            return ratio
        start = int(first[0])
        self._run(energy[:, start:], ratio, None, start)
        return ratio

    def process_one(self, samples: Array) -> Array:
        """:meth:`process` for a bank of one channel, 1-D in and out (a packet's hot path:
        no reshaping, no masks)."""
        if self.state.sta.size == 1 and samples.size:
            return self._one(samples)
        return np.asarray(self.process(samples[None, :])[0], dtype=np.float64)

    def _one(self, samples: Array) -> Array:
        """A bank of one channel, 1-D in and out (at least one sample)."""
        if self.state.taken[0] >= self.lta_samples:
            return self._warm_one(samples)
        return self._warming_one(samples)

    def _warming_one(self, samples: Array) -> Array:
        """One channel still warming up: :meth:`_run`'s recursion and NaNs, 1-D.

        Why: every station's first ``lta_s`` of packets come this way, all of a network's
        together (its start, and after a common gap); the bank's masks and scipy's checked
        ``lfilter`` made them the slowest packets of all.
        """
        s = self.state
        skip = 0 if s.started[0] else 1  # a channel's very first sample only starts the recursion
        s.started[0] = True
        ratio = np.full(samples.size, np.nan)
        if samples.size == skip:
            return ratio
        used = samples[skip:]
        energy = used * used
        keep_sta, keep_lta = self._keep
        sta, _ = lfilter_1d(self._b_sta, self._a_sta, energy, np.array([keep_sta * s.sta[0]]))
        lta, _ = lfilter_1d(self._b_lta, self._a_lta, energy, np.array([keep_lta * s.lta[0]]))
        # sample j of ``energy`` is the recursion's (taken + j + 1)-th: known from the n_lta-th on
        known = max(0, self.lta_samples - 1 - int(s.taken[0]))
        if known < energy.size:
            ratio[skip + known :] = sta[known:] / lta[known:]
        s.sta[0], s.lta[0] = sta[-1], lta[-1]
        s.taken[0] += energy.size
        return ratio

    def _warm_one(self, samples: Array) -> Array:
        """One warmed-up channel: the same recursion, 1-D (less overhead per packet)."""
        s = self.state
        energy = samples * samples
        keep_sta, keep_lta = self._keep
        sta, _ = lfilter_1d(self._b_sta, self._a_sta, energy, np.array([keep_sta * s.sta[0]]))
        lta, _ = lfilter_1d(self._b_lta, self._a_lta, energy, np.array([keep_lta * s.lta[0]]))
        s.sta[0], s.lta[0] = sta[-1], lta[-1]
        s.taken[0] += samples.size
        return np.asarray(sta / lta, dtype=np.float64)

    def _run(self, energy: Array, ratio: Array, channel: int | None, start: int = 0) -> None:
        s = self.state
        rows = slice(None) if channel is None else slice(channel, channel + 1)
        if channel is not None:
            start = ratio.shape[1] - energy.shape[1]
        if energy.shape[1] == 0:
            return
        c_sta, c_lta = 1.0 / self.sta_samples, 1.0 / self.lta_samples
        keep_sta, keep_lta = 1.0 - c_sta, 1.0 - c_lta
        sta, _ = lfilter(
            [c_sta], [1.0, -keep_sta], energy, axis=1, zi=(keep_sta * s.sta[rows])[:, None]
        )
        lta, _ = lfilter(
            [c_lta], [1.0, -keep_lta], energy, axis=1, zi=(keep_lta * s.lta[rows])[:, None]
        )
        out = sta / lta
        # sample j of this run is the recursion's (taken + j + 1)-th: valid from the n_lta-th on
        index = np.arange(1, energy.shape[1] + 1)
        valid = (s.taken[rows][:, None] + index) >= self.lta_samples
        out[~valid] = np.nan
        ratio[rows, start:] = out
        s.sta[rows], s.lta[rows] = sta[:, -1], lta[:, -1]
        s.taken[rows] += energy.shape[1]


def recursive_sta_lta_reference(
    samples: list[float], sta_samples: int, lta_samples: int, state: StaLtaState | None = None
) -> tuple[list[float], StaLtaState]:
    """Slow reference for one channel: the recursion written out, one sample at a time.

    Returns the ratios (NaN during warm-up) and the state to continue from.
    """
    s = StaLtaState.fresh(1) if state is None else state
    sta, lta = float(s.sta[0]), float(s.lta[0])
    taken, started = int(s.taken[0]), bool(s.started[0])
    c_sta, c_lta = 1.0 / sta_samples, 1.0 / lta_samples
    out: list[float] = []
    for x in samples:
        if not started:
            started = True
            out.append(float("nan"))
            continue
        sta = c_sta * (x * x) + (1.0 - c_sta) * sta
        lta = c_lta * (x * x) + (1.0 - c_lta) * lta
        taken += 1
        out.append(sta / lta if taken >= lta_samples else float("nan"))
    end = StaLtaState(
        np.array([sta]),
        np.array([lta]),
        np.array([taken], dtype=np.int64),
        np.array([started], dtype=np.bool_),
    )
    return out, end


class CausalBandpass:
    """Butterworth band-pass ``low_hz``–``high_hz`` (``order`` poles per corner) run causally
    over a bank of ``channels`` channels, carrying each channel's filter memory.

    The filter is designed as second-order sections, exactly as ObsPy designs it. Where the
    equivalent single transfer function reproduces the sections to within
    :data:`TF_TOLERANCE` of the output's range on a probe signal (1-20 Hz at 50-200 Hz: 1e-14
    to 1e-9), it runs as that one ``lfilter`` (several times cheaper per packet); otherwise
    (corners very low against the sampling rate) as the sections (``sosfilt``).
    ``uses_tf`` says which.
    """

    def __init__(
        self, low_hz: float, high_hz: float, sr_hz: float, order: int = 4, channels: int = 1
    ) -> None:
        design = _design(low_hz, high_hz, sr_hz, order)
        # own copies: the design is shared, and scipy's sosfilt wants writable sections
        self.sos, self.b, self.a = design.sos.copy(), design.b.copy(), design.a.copy()
        self.uses_tf = design.uses_tf
        if self.uses_tf:
            self.zi = np.zeros((channels, self.a.size - 1))
        else:
            self.zi = np.zeros((self.sos.shape[0], channels, 2))

    def reset(self, channel: int) -> None:
        if self.uses_tf:
            self.zi[channel, :] = 0.0
        else:
            self.zi[:, channel, :] = 0.0

    def process_one(self, samples: Array) -> Array:
        """:meth:`process` for a bank of one channel, 1-D in and out (a packet's hot path)."""
        if not self.uses_tf or self.zi.shape[0] != 1:
            return np.asarray(self.process(samples[None, :])[0], dtype=np.float64)
        out, self.zi[0] = lfilter_1d(self.b, self.a, samples, self.zi[0])
        return out

    def process(self, block: Array) -> Array:
        """Filtered ``block`` (shape ``(channels, n)``)."""
        if not self.uses_tf:
            out, self.zi = sosfilt(self.sos, block, axis=1, zi=self.zi)
            return np.asarray(out, dtype=np.float64)
        if block.shape[0] == 1:  # one channel: the 1-D call has less overhead
            return self.process_one(block[0])[None, :]
        out, self.zi = lfilter(self.b, self.a, block, axis=1, zi=self.zi)
        return np.asarray(out, dtype=np.float64)


@dataclass(frozen=True, slots=True)
class _Design:
    """A band-pass as designed once: sections, the equivalent transfer function, and whether
    the latter is exact enough to run instead (read-only: each bank takes copies)."""

    sos: Array
    b: Array
    a: Array
    uses_tf: bool


@lru_cache(maxsize=64)
def _design(low_hz: float, high_hz: float, sr_hz: float, order: int) -> _Design:
    """Design the band-pass (see :class:`CausalBandpass`) once per parameter set.

    Why cached: designing and probing on 20,000 samples takes ~1.5 ms, and every seismic
    station builds its bank on its first packet and after every gap; at 300 stations the first
    second's burst took 450 ms instead of 70 ms. The design is a pure function of its
    arguments, so sharing it changes no output.
    """
    nyquist = 0.5 * sr_hz
    if not 0.0 < low_hz < high_hz < nyquist:
        raise ConfigError(
            f"band-pass {low_hz}–{high_hz} Hz must satisfy 0 < low < high < Nyquist "
            f"({nyquist} Hz at {sr_hz} Hz)"
        )
    sos = np.asarray(
        iirfilter(
            order,
            [low_hz / nyquist, high_hz / nyquist],
            btype="band",
            ftype="butter",
            output="sos",
        ),
        dtype=np.float64,
    )
    b, a = (np.asarray(c, dtype=np.float64) for c in sos2tf(sos))
    probe = np.random.default_rng(0).normal(size=PROBE_SAMPLES)
    exact = sosfilt(sos, probe)
    fast = lfilter(b, a, probe)
    uses_tf = bool(np.max(np.abs(fast - exact)) <= TF_TOLERANCE * np.max(np.abs(exact)))
    for array in (sos, b, a):
        array.flags.writeable = False
    return _Design(sos, b, a, uses_tf)
