"""The network's grid-search location: the in-place kernel gives the bits of the definition."""

from __future__ import annotations

from typing import Any

import numpy as np

from detectors.network import GRID_MARGIN_KM, GRID_STEP_KM, locate


def reference(
    xy_km: Any, onsets: list[float], vp_km_s: float, depth_km: float
) -> tuple[float, float, float, float]:
    """The search as first written: every candidate's distances by ``np.linalg.norm``."""
    times = np.asarray(onsets, dtype=np.float64)
    low = xy_km.min(axis=0) - GRID_MARGIN_KM
    high = xy_km.max(axis=0) + GRID_MARGIN_KM
    xs = np.arange(low[0], high[0] + GRID_STEP_KM / 2, GRID_STEP_KM)
    ys = np.arange(low[1], high[1] + GRID_STEP_KM / 2, GRID_STEP_KM)
    gx, gy = np.meshgrid(xs, ys)
    candidates = np.stack([gx.ravel(), gy.ravel()], axis=1)
    distance = np.linalg.norm(candidates[:, None, :] - xy_km[None, :, :], axis=2)
    origins = times[None, :] - np.hypot(distance, depth_km) / vp_km_s
    origin = origins.mean(axis=1)
    spread = np.sqrt(np.mean((origins - origin[:, None]) ** 2, axis=1))
    best = int(np.argmin(spread))
    return (
        float(candidates[best, 0]),
        float(candidates[best, 1]),
        float(origin[best]),
        float(spread[best]),
    )


def test_locate_equals_the_norm_definition_to_the_bit() -> None:
    rng = np.random.default_rng(7)
    for _ in range(150):
        n = int(rng.integers(1, 20))
        xy = rng.uniform(-40.0, 40.0, size=(n, 2))
        onsets = (1.8e9 + rng.uniform(0.0, 5.0, size=n)).tolist()
        vp, depth = float(rng.uniform(3.0, 8.0)), float(rng.uniform(1.0, 30.0))
        assert locate(xy, onsets, vp, depth) == reference(xy, onsets, vp, depth)
