"""The hazard models behave physically: design storms honour their IDF curve, moving cells
move, gauge fields interpolate, reservoirs conserve water, ratings pass through the gauge's
levels, plumes go downwind and thin out, runaways heat and pressurise together."""

from __future__ import annotations

import math

import numpy as np
import pytest

from simulators.dispersion import Enclosure, Leak, plume_mg_m3, to_quantity
from simulators.hydrology import Basin, BasinGauge, Underpass, nash_cascade, underpass_depth_cm
from simulators.models import Keyframes
from simulators.rainfield import GaugeField, IdfCurve, MovingCell, chicago_hyetograph
from simulators.tank import Runaway

IDF = IdfCurve(a_mm_min=12.0, c=0.811, b_min=8.0, n=0.711)


@pytest.mark.parametrize("minutes", [30, 60, 120, 180])
def test_chicago_storm_gives_the_idf_depth_for_any_centred_duration(minutes: int) -> None:
    duration, ratio = 240.0, 0.4
    storm = chicago_hyetograph(IDF, 50.0, duration_min=duration, peak_ratio=ratio, start_s=0.0)
    peak_s = ratio * duration * 60
    before, after = ratio * minutes * 60, (1 - ratio) * minutes * 60
    depth = float(np.diff(storm.integral([peak_s - before, peak_s + after]))[0]) / 3600
    expected = IDF.intensity_mm_min(minutes, 50.0) * minutes
    assert depth == pytest.approx(expected, rel=0.02)
    assert float(storm.integral([duration * 60])[0]) / 3600 == pytest.approx(
        IDF.intensity_mm_min(duration, 50.0) * duration, rel=1e-6
    )


def test_a_rarer_storm_is_heavier() -> None:
    assert IDF.intensity_mm_min(60, 100) > IDF.intensity_mm_min(60, 10) > 0


def test_a_moving_cell_rains_where_it_passes() -> None:
    cell = MovingCell(39.9, 116.3, 3.0, Keyframes((0.0, 7200.0), (50.0, 50.0)), 20.0, 0.0)
    t = np.array([7200.0])
    on_track = [float(cell.depth_mm(39.9, 116.3 + dx, t)[0]) for dx in (0.1, 0.2, 0.3)]
    off_track = float(cell.depth_mm(40.1, 116.5, t)[0])
    assert min(on_track) > 15.0 and off_track < 0.1
    east = 116.3 + 20.0 / (111.32 * math.cos(math.radians(39.9)))  # 1 h of travel east
    early = cell.depth_mm(39.9, east, np.array([1800.0, 5400.0]))
    assert early[0] < 1.0 < early[1]  # it arrives later downstream


def test_gauge_field_takes_the_site_at_the_site_and_weighs_between() -> None:
    field = GaugeField.from_totals(
        "f", [("a", 39.9, 116.3, [10.0, 0.0]), ("b", 39.9, 116.5, [0.0, 30.0])],
        start_s=0.0, step_s=3600.0,
    )  # fmt: skip
    at_a = field.depth_mm(39.9, 116.3, np.array([1800.0, 3600.0, 7200.0]))
    assert at_a.tolist() == [5.0, 10.0, 10.0]
    middle = float(field.depth_mm(39.9, 116.4, np.array([7200.0]))[0])
    assert middle == pytest.approx(20.0, rel=1e-3)  # equal weights halfway


def test_nash_cascade_conserves_water_and_lags() -> None:
    grid = np.arange(0.0, 48 * 3600.0, 60.0)
    inflow = np.where(grid < 3600.0, 100.0, 0.0)
    out = nash_cascade(inflow, grid, 2, 3600.0)
    assert float(np.trapezoid(out, grid)) == pytest.approx(float(np.trapezoid(inflow, grid)),
                                                          rel=0.01)  # fmt: skip
    assert grid[int(np.argmax(out))] > 3600.0 and out.max() < 100.0


def test_rating_passes_through_normal_and_warning_levels() -> None:
    gauge = BasinGauge("W1", warning_q_m3s=150.0, exponent=1.6)
    stage = Basin.stage_m(gauge, np.array([0.0, 150.0, 600.0]), 40.0, 42.0)
    assert stage[0] == 40.0 and stage[1] == pytest.approx(42.0) and stage[2] > 42.0


def test_underpass_fills_beyond_its_drain_and_empties_after() -> None:
    grid = np.arange(0.0, 4 * 3600.0, 10.0)
    rain = np.minimum(grid, 3600.0) / 3600.0 * 60.0  # 60 mm in the first hour, then dry
    small = Underpass("P", catchment_m2=40000.0, runoff_coeff=0.9, drain_m3s=0.2, sag_m2=1500.0)
    depth = underpass_depth_cm(small, rain, grid)
    assert depth.max() > 20.0 and depth[-1] == 0.0
    big_drain = Underpass("P", 40000.0, 0.9, 2.0, 1500.0)
    assert underpass_depth_cm(big_drain, rain, grid).max() == 0.0


def test_plume_is_downwind_symmetric_and_thins_out() -> None:
    near, far = (plume_mg_m3(5.0, 2.0, x, 0.0, 1.5, 2.0, "D") for x in (50.0, 500.0))
    assert near > far > 0
    assert plume_mg_m3(5.0, 2.0, -50.0, 0.0, 1.5, 2.0, "D") == 0
    left, right = (plume_mg_m3(5.0, 2.0, 100.0, y, 1.5, 2.0, "D") for y in (-20.0, 20.0))
    assert left == right < plume_mg_m3(5.0, 2.0, 100.0, 0.0, 1.5, 2.0, "D")
    assert plume_mg_m3(5.0, 2.0, 100.0, 0.0, 1.5, 2.0, "F") > near * 0  # stable air: defined


def test_leak_reaches_downwind_sensors_late_and_the_enclosure_fills() -> None:
    rate = Keyframes((0.0, 60.0), (0.0, 10.0))
    box = Enclosure("S0", volume_m3=20.0, air_changes_h=6.0)
    leak = Leak("l", "ch4_pct_lel", 39.9, 116.4, 0.5, rate, 2.0, 270.0, "D", 1.5, box, ())
    east = 116.4 + 0.2 / (111.32 * math.cos(math.radians(39.9)))  # 200 m downwind (wind from W)
    t = np.array([60.0, 200.0])
    downwind, upwind = leak.open_air(39.9, east, t), leak.open_air(39.9, 116.398, t)
    assert downwind[0] == 0.0 < downwind[1] and upwind.max() == 0.0  # 100 s transport delay
    grid = np.arange(0.0, 7200.0, 2.0)
    filled = leak.enclosed(grid)
    steady = to_quantity(np.array([10_000.0 / (6.0 / 3600.0 * 20.0)]), "ch4_pct_lel")[0]
    assert filled[-1] == pytest.approx(steady, rel=0.01)


def test_runaway_heats_and_pressurises_together_then_relieves() -> None:
    grid = np.arange(0.0, 3601.0, 1.0)
    runaway = Runaway("r", "T", onset_s=600.0, heat_rate_k_min=0.8, activation_k=6000.0,
                      cooling_per_s=0.0005, vapour_k=2800.0, relief_kpa=1600.0)  # fmt: skip
    temp, pressure = runaway.series(grid, 25.0, 1000.0)
    assert temp[599] == 25.0 and pressure[599] == 1000.0  # nothing before the onset
    rising = slice(600, int(np.argmax(pressure >= 1600.0)))
    assert np.all(np.diff(temp[rising]) >= 0) and np.all(np.diff(pressure[rising]) >= 0)
    assert pressure.max() == 1600.0 and temp[-1] == temp[-2]  # relief holds both
    assert runaway.relief_s(grid, 25.0, 1000.0) == float(np.argmax(pressure >= 1600.0))
