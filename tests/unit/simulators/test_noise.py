"""Counter-based noise: window-independent, well distributed, distinct per stream."""

from __future__ import annotations

import numpy as np

from simulators.noise import gaussian, stream_key, uniform


def test_values_depend_only_on_the_counter() -> None:
    key = stream_key(7, "HD-SM-001", "noise-0")
    whole = gaussian(key, np.arange(0, 1000))
    parts = np.concatenate([gaussian(key, np.arange(0, 333)), gaussian(key, np.arange(333, 1000))])
    assert np.array_equal(whole, parts)


def test_gaussian_and_uniform_moments() -> None:
    normals = gaussian(stream_key(1, "s", "x"), np.arange(200_000))
    assert abs(normals.mean()) < 0.01 and abs(normals.std() - 1.0) < 0.01
    uniforms = uniform(stream_key(1, "s", "y"), np.arange(200_000))
    assert uniforms.min() > 0.0 and uniforms.max() <= 1.0 and abs(uniforms.mean() - 0.5) < 0.005


def test_streams_are_distinct() -> None:
    counters = np.arange(1000)
    a = gaussian(stream_key(7, "A", "noise"), counters)
    b = gaussian(stream_key(7, "B", "noise"), counters)
    c = gaussian(stream_key(8, "A", "noise"), counters)
    assert abs(np.corrcoef(a, b)[0, 1]) < 0.1 and abs(np.corrcoef(a, c)[0, 1]) < 0.1
