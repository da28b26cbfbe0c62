"""The shared pieces of the waveform detectors: :func:`detectors._sampled.peak` against the
reduction it replaces."""

from __future__ import annotations

import math

import numpy as np
import pytest

from detectors._sampled import peak


@pytest.mark.parametrize("seed", range(3))
def test_peak_is_the_maximum_reduction(seed: int) -> None:
    """The same number as ``np.maximum.reduce`` (NaN wherever there is one), whatever the
    position of ties, NaN and infinities."""
    rng = np.random.default_rng(seed)
    specials = [np.nan, np.inf, -np.inf, 0.0, -0.0]
    for _ in range(2000):
        values = np.round(rng.normal(size=int(rng.choice([1, 2, 3, 100]))), 1)
        for _ in range(int(rng.integers(0, 3))):
            values[rng.integers(0, values.size)] = rng.choice(specials)
        want = float(np.maximum.reduce(values))
        got = peak(values)
        assert type(got) is float
        assert got == want or (math.isnan(got) and math.isnan(want)), values
