"""The drift check's windows: kept sorted as residuals arrive, cross a window edge and age out,
they must give the medians that sorting the windows afresh gives (late readings, equal times,
gaps longer than a window, a restore in between)."""

from __future__ import annotations

import bisect
import random
import statistics

import pytest

from detectors.drift import MIN_POINTS, NeighbourDrift, _Residuals
from detectors.quality import QualitySpec
from yujing.config.stations import Registry, StationSpec
from yujing.contracts import Kind, Reading


class Reference:
    """The windows as first written: insert in time order, cut, split, sort both halves."""

    def __init__(self) -> None:
        self.ts: list[float] = []
        self.values: list[float] = []

    def add(self, ts: float, value: float, window: float) -> tuple[float, float] | None:
        i = bisect.bisect_right(self.ts, ts)
        self.ts.insert(i, ts)
        self.values.insert(i, value)
        newest = self.ts[-1]
        cut = bisect.bisect_left(self.ts, newest - 2 * window)
        del self.ts[:cut], self.values[:cut]
        split = bisect.bisect_left(self.ts, newest - window)
        before, recent = self.values[:split], self.values[split:]
        if len(before) < MIN_POINTS or len(recent) < MIN_POINTS:
            return None
        return statistics.median(before), statistics.median(recent)


def medians(track: _Residuals) -> tuple[float, float] | None:
    if len(track.older) < MIN_POINTS or len(track.recent) < MIN_POINTS:
        return None
    return statistics.median(track.older), statistics.median(track.recent)


@pytest.mark.parametrize("seed", range(6))
def test_sorted_windows_give_the_medians_of_sorting_afresh(seed: int) -> None:
    rng = random.Random(seed)
    window = rng.choice([600.0, 3600.0])
    track, reference = _Residuals(), Reference()
    t = 0.0
    for step in range(3000):
        roll = rng.random()
        if roll < 0.02:
            t += rng.uniform(window, 3 * window)  # a gap: windows empty out
        elif roll < 0.1:
            pass  # the same time again
        else:
            t += rng.choice([30.0, 60.0, 60.0, 90.0])
        ts = t - rng.uniform(0, 2.5 * window) if rng.random() < 0.08 else t  # late, or too late
        value = round(rng.gauss(0.0, 2.0), rng.choice([1, 3]))  # ties, then distinct values
        if step % 500 == 499:  # a restart: the snapshot keeps times and values only
            track = _Residuals(list(track.ts), list(track.values), track.drifting)
        track.add(ts, value, window)
        want = reference.add(ts, value, window)
        assert (track.ts, track.values) == (reference.ts, reference.values)
        assert medians(track) == want


def test_an_offset_that_comes_and_goes_is_flagged_as_it_comes_and_as_it_goes() -> None:
    """Through the detector, with a 6 h window at 1-min reports (the full windows the sorted
    halves are for): the jump and the jump back are each a change of offset, each flagged
    once half the last window has moved, until the window before has caught up with it."""

    def point(name: str, *near: str) -> StationSpec:
        return StationSpec(name, "", Kind.GAS, "d1", 0.0, 0.0, 60.0, neighbours=near)

    drift = NeighbourDrift(
        Registry.from_specs([point("A", "B", "C"), point("B", "A", "C"), point("C", "A", "B")]),
        {"ch4_pct_lel": QualitySpec(drift_limit=3.0, drift_window_s=21600.0)},
    )
    rng = random.Random(7)
    out = []
    for i in range(60 * 30):  # 30 h: A reads 5 %LEL high from hour 8 to hour 18
        for name in "ABC":
            offset = 5.0 if name == "A" and 8 * 60 <= i < 18 * 60 else 0.0
            value = 1.0 + rng.gauss(0.0, 0.2) + offset
            out += drift.update(Reading(name, Kind.GAS, "d1", 60.0 * i, i, {"ch4_pct_lel": value}))
    flags = [(f.station, f.grade.value, round(f.ts / 3600.0, 1)) for f in out]
    assert [(station, grade) for station, grade, _ in flags] == [
        ("A", "blue"),
        ("A", "none"),
        ("A", "blue"),
        ("A", "none"),
    ]
    came, _, went, _ = (hour for _, _, hour in flags)
    # a median moves once half the last window has moved: 3 h after each jump
    assert 11 <= came < 12 and 21 <= went < 22
