"""The 19–21 July 2016 Beijing rainstorm ("7·20") at Gucheng, hourly gauge totals (UCI #501)."""

from __future__ import annotations

import csv
import lzma
import random
from pathlib import Path

import pytest

from detectors import RainDetector
from tests.unit.detectors.helpers import feed, reading, rules, station
from yujing.contracts import Grade, Kind

GUCHENG = "beijing_multisite_hourly_rain/PRSA_Data_Gucheng_20130301-20170228.csv.xz"


@pytest.mark.realdata
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
