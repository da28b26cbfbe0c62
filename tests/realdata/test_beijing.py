"""The 19–21 July 2016 Beijing rainstorm ("7·20"), hourly gauge totals (UCI #501): the rain ladder
per gauge, exactly from window totals, and the area mean over the 8 distinct rain series."""

from __future__ import annotations

import csv
import lzma
import random
from pathlib import Path

import pytest

from detectors import RainDetector, SilenceDetector
from detectors.area_rain import AreaRain
from tests.realdata.validation import BEIJING, BEIJING_SERIES, beijing_hourly, beijing_storm
from tests.unit.detectors.helpers import BOOK, feed, reading, rules, station
from yujing.config.stations import Registry, StationSpec
from yujing.contracts import Grade, Kind, Reading

pytestmark = pytest.mark.realdata

GUCHENG = f"{BEIJING}/PRSA_Data_Gucheng_20130301-20170228.csv.xz"


def test_the_7_20_storm_is_graded_from_exact_window_totals(datasets: Path) -> None:
    with lzma.open(datasets / GUCHENG, "rt", newline="") as handle:
        rows = [
            r
            for r in csv.DictReader(handle)
            if (r["year"], r["month"]) == ("2016", "7") and r["day"] in ("19", "20", "21")
        ]
    hourly = [0.0 if r["RAIN"] == "NA" else float(r["RAIN"]) for r in rows]
    assert len(hourly) == 72 and round(sum(hourly), 1) == 315.2  # as PROVENANCE.md describes
    spec = station(Kind.RAIN, "GUCHENG", interval_s=3600.0)
    readings = [reading(spec, 3600.0 * (h + 1), h + 1, rain_mm=mm) for h, mm in enumerate(hourly)]
    findings = feed(RainDetector(spec, rules(spec)), readings)

    def direct(hours: int, at_hour: int) -> float:  # the hour ending at at_hour and before
        return round(sum(hourly[max(0, at_hour - hours) : at_hour]), 6)

    for f in findings:
        at_hour = round(f.ts / 3600.0)
        for hours in (1, 3, 6, 12, 24):
            assert round(f.evidence["totals_mm"][f"rain_{hours}h_mm"], 6) == direct(hours, at_hour)
    storm = [(round(f.ts / 3600.0), f.grade) for f in findings if f.rule == "rainstorm"]
    assert storm == [
        (1, Grade.NONE),
        (35, Grade.YELLOW),  # 6 h 52.3 mm came before 12 h alone reached 50 mm
        (36, Grade.ORANGE),  # 3 h 56.8 mm; the 3 h peak is 81.9 mm: never red
        (43, Grade.YELLOW),
        (51, Grade.BLUE),
        (57, Grade.NONE),
    ]
    assert max(direct(3, h) for h in range(73)) == 81.9
    assert direct(6, 35) >= 50 > max(direct(6, 34), direct(12, 34))
    heavy = [(round(f.ts / 3600.0), f.grade) for f in findings if f.rule == "short_heavy_rain"]
    assert heavy == [(1, Grade.NONE), (35, Grade.BLUE), (41, Grade.NONE)]  # wettest hour 30.4
    shuffled = readings[1:]
    random.Random(20).shuffle(shuffled)
    assert feed(RainDetector(spec, rules(spec)), [readings[0], *shuffled]) == findings


def test_every_series_and_the_area_mean_through_the_storm(datasets: Path) -> None:
    storm = beijing_storm(datasets)
    assert set(storm) == {"area", *BEIJING_SERIES}
    for site, found in storm.items():
        grades = {g for _, rule, g, _ in found if rule == "rainstorm"}
        assert "yellow" in grades, site  # every gauge saw 50 mm in 6 h
        assert "red" not in grades, site  # nowhere 100 mm in 3 h (peak 3 h: Gucheng 81.9 mm)
        assert found[-1][2] == "none", site  # and all cleared by 21 July
    assert ("07-20 12:00", "rainstorm", "orange", 56.8) in storm["Gucheng"]
    assert ("07-20 13:00", "rainstorm", "orange", 56.6) in storm["area"]  # the mean, an hour on
    orange = {s for s, found in storm.items() if any(g == "orange" for _, _, g, _ in found)}
    assert orange == {
        "area",
        "Aotizhongxin",
        "Changping",
        "Dongsi",
        "Gucheng",
        "Huairou",
        "Wanliu",
        "Wanshouxigong",
    }  # fmt: skip  (Shunyi stayed at yellow)


def test_a_buffered_upload_shuffled_equals_the_same_upload_in_order(datasets: Path) -> None:
    """Gucheng goes offline for 12 h of 20 July and uploads its buffer in one burst: shuffled, the
    burst gives exactly the findings of the in-order burst, for the gauge and for the area."""
    specs = [StationSpec(s, s, Kind.RAIN, "beijing", 39.9, 116.4, 3600.0) for s in BEIJING_SERIES]
    series = {s.id: dict(beijing_hourly(datasets, s.id, ("20",))) for s in specs}
    hours = sorted(series["Gucheng"])

    def run(shuffle: bool) -> tuple[list[tuple[float, str, str]], list[tuple[float, str, str]]]:
        area = AreaRain(Registry.from_specs(specs), BOOK.for_kind(Kind.RAIN))
        gauge = RainDetector(specs[3], rules(specs[3]))
        watch = SilenceDetector(specs[3], rules(specs[3]))  # its silence leaves the area mean
        held: list[Reading] = []
        found: list[tuple[float, str, str]] = []
        means: list[tuple[float, str, str]] = []
        for hour, ts in enumerate(hours):
            for spec in specs:
                r = Reading(spec.id, Kind.RAIN, "beijing", ts, hour + 1,
                            {"rain_mm": series[spec.id][ts]})  # fmt: skip
                if spec.id == "Gucheng" and 8 <= hour < 20:
                    held.append(r)  # offline, buffering
                    continue
                burst = [r]
                if spec.id == "Gucheng" and hour == 20:
                    burst = [*held, r]
                    if shuffle:
                        random.Random(7).shuffle(burst)
                for b in burst:
                    area.update(b)
                    if spec.id == "Gucheng":
                        found += [(f.ts, f.rule, f.grade.value) for f in gauge.update(b)]
                        for f in watch.update(b):
                            area.observe(f)
            found += [(f.ts, f.rule, f.grade.value) for f in gauge.advance(ts + 60.0)]
            for f in watch.advance(ts + 60.0):
                area.observe(f)
            means += [(f.ts, f.rule, f.grade.value) for f in area.advance(ts + 60.0)]
        return found, means

    gauge_in_order, area_in_order = run(shuffle=False)
    gauge_shuffled, area_shuffled = run(shuffle=True)
    assert gauge_shuffled == gauge_in_order
    assert area_shuffled == area_in_order
    assert "unknown" in {g for _, _, g in gauge_in_order}  # offline: unknown, never clear
    assert {g for _, _, g in area_in_order} >= {"yellow", "orange"}  # the silent gauge left out
