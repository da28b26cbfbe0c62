"""Counter-based random numbers: the value for (seed, station, stream, counter) never depends on
what was generated before, so any window of a simulation can be produced on its own and two
windows joined give the same bytes as one window covering both.

The mixer is SplitMix64's finaliser (Steele, Lea & Flood, "Fast splittable pseudorandom number
generators", OOPSLA 2014) applied to ``key ^ (counter * golden gamma)``; normals come from the
Box-Muller transform of two such uniforms.

>>> k = stream_key(7, "HD-RN-001", "noise")
>>> a = gaussian(k, np.arange(5))
>>> bool(np.array_equal(a[2:], gaussian(k, np.arange(2, 5))))
True
"""

from __future__ import annotations

import hashlib

import numpy as np
import numpy.typing as npt

__all__ = ["FloatArray", "IntArray", "gaussian", "stream_key", "uniform"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

_GAMMA = np.uint64(0x9E3779B97F4A7C15)
_MUL1 = np.uint64(0xBF58476D1CE4E5B9)
_MUL2 = np.uint64(0x94D049BB133111EB)
_SECOND = np.uint64(0xD1B54A32D192ED03)
_TO_UNIT = 2.0**-53


def stream_key(seed: int, station: str, stream: str) -> int:
    """A 64-bit key for one random stream of one station (stable across registry changes)."""
    digest = hashlib.blake2b(f"{seed}:{station}:{stream}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little")


def _mix(values: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    z = values.copy()
    z ^= z >> np.uint64(30)
    z *= _MUL1
    z ^= z >> np.uint64(27)
    z *= _MUL2
    z ^= z >> np.uint64(31)
    return z


def _hashed(key: int, counters: npt.ArrayLike, salt: np.uint64) -> npt.NDArray[np.uint64]:
    counts = np.atleast_1d(np.asarray(counters, dtype=np.int64)).astype(np.uint64)
    keys = np.full(counts.shape, key, dtype=np.uint64) ^ salt
    return _mix(keys ^ (counts * _GAMMA))


def uniform(key: int, counters: npt.ArrayLike) -> FloatArray:
    """Uniform numbers in (0, 1], one per counter."""
    bits = _hashed(key, counters, np.uint64(0))
    return ((bits >> np.uint64(11)).astype(np.float64) + 1.0) * _TO_UNIT


def gaussian(key: int, counters: npt.ArrayLike) -> FloatArray:
    """Standard normal numbers, one per counter (Box-Muller)."""
    u1 = uniform(key, counters)
    bits = _hashed(key, counters, _SECOND)
    u2 = (bits >> np.uint64(11)).astype(np.float64) * _TO_UNIT
    result: FloatArray = np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2)
    return result
