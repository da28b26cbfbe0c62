"""Line protocol of every measurement: exact text, escaping, one type per field."""

from __future__ import annotations

import math

import numpy as np

from detectors.ladder import Ladder, Rung
from yujing.config.ladders import RuleSpec
from yujing.config.stations import StationSpec
from yujing.contracts import (
    AlertKey,
    AlertState,
    Finding,
    Grade,
    Hazard,
    Kind,
    Notice,
    NoticeReason,
    Reading,
    Waveform,
)
from yujing.storage.schema import (
    StationState,
    escape_tag,
    finding_line,
    notice_line,
    reading_line,
    station_line,
    threshold_lines,
)

T = 1_780_000_000.0


def test_reading_has_tags_values_seq_and_arrival_lag() -> None:
    reading = Reading(
        "W 1",
        Kind.WATER_LEVEL,
        "d,1",
        T,
        3,
        {"level_m": 2, "bad": math.nan},
        quality="suspect",
        received=T + 2.5,
    )
    assert reading_line(reading) == (
        "reading,station=W\\ 1,kind=water_level,district=d\\,1,quality=suspect "
        f"level_m=2.0,seq=3i,lag_s=2.5 {int(T * 1000)}"
    )


def test_seismic_packet_is_summarised_not_stored_sample_by_sample() -> None:
    wave = Waveform("HNE", 100.0, T, np.array([0.1, -2.5, 0.3]))
    line = reading_line(Reading("S1", Kind.SEISMIC, "d", T, 0, {}, waveform=wave))
    assert (
        line == f"reading,station=S1,kind=seismic,district=d,channel=HNE "
        f"seq=0i,peak_ms2=2.5,sr_hz=100.0,samples=3i {int(T * 1000)}"
    )


def test_finding_flattens_numeric_evidence_and_keeps_types_stable() -> None:
    finding = Finding(
        "R1",
        "d1",
        Hazard.RAINSTORM,
        "rainstorm",
        Grade.ORANGE,
        T,
        value=57,
        threshold=50,
        quantity="rain_3h_mm",
        station="R1",
        message="m",
        evidence={
            "totals_mm": {"rain_1h_mm": 52, "rain_3h_mm": 57.0},
            "late": False,
            "channel": "HNN",
            "value": 1,
            "excluded": {"rain_mm": {"spike": 1}},
        },
    )
    line = finding_line(finding)
    assert line == (
        "derived,station=R1,area=R1,district=d1,hazard=rainstorm,rule=rainstorm,"
        "quantity=rain_3h_mm,grade=orange value=57.0,threshold=50.0,grade_rank=3i,"
        f"rain_1h_mm=52.0,rain_3h_mm=57.0,late=false,evidence_value=1.0 {int(T * 1000)}"
    )


def test_unknown_finding_has_rank_minus_one_and_no_value() -> None:
    finding = Finding(
        "S1", "d", Hazard.SENSOR, "silence", Grade.UNKNOWN, T, evidence={"silent_for_s": 300}
    )
    assert finding_line(finding) == (
        "derived,area=S1,district=d,hazard=sensor,rule=silence,grade=unknown "
        f"grade_rank=-1i,silent_for_s=300.0 {int(T * 1000)}"
    )


def notice(reason: NoticeReason, grade: Grade, state: AlertState, **kw: object) -> Notice:
    key = AlertKey("G1", Hazard.GAS_LEAK, "ch4")
    return Notice(key, 2, reason, grade, Grade.BLUE, state, "d2", T, **kw)  # type: ignore[arg-type]


def test_notice_line_quotes_text_and_marks_activity() -> None:
    line = notice_line(
        notice(
            NoticeReason.UPGRADED,
            Grade.RED,
            AlertState.FIRING,
            value=55.0,
            threshold=50.0,
            message='CH4 "55" %LEL\nnow',
            quantity="ch4_pct_lel",
            stations=("G1",),
        ),
    )
    assert line == (
        "alert,area=G1,hazard=gas_leak,rule=ch4,district=d2,grade=red,previous_grade=blue,"
        "state=firing,reason=upgraded,drill=false "
        'key="G1/gas_leak/ch4",version=2i,grade_rank=4i,active=1i,status="firing",'
        'message="CH4 \\"55\\" %LEL now",quantity="ch4_pct_lel",stations="G1",'
        f"value=55.0,threshold=50.0 {int(T * 1000)}"
    )
    resolved = notice_line(notice(NoticeReason.RESOLVED, Grade.NONE, AlertState.RESOLVED))
    assert "active=0i" in resolved and "state=resolved" in resolved
    acked = notice_line(notice(NoticeReason.ACKNOWLEDGED, Grade.RED, AlertState.ACKNOWLEDGED), 42)
    assert acked.endswith(f",ack_s=42.0 {int(T * 1000)}")


STATION = StationSpec("W1", "river gauge", Kind.WATER_LEVEL, "d1", 39.9, 116.4, 60.0, area="z1")


def test_station_line_carries_position_grade_and_completeness() -> None:
    line = station_line(STATION, StationState(Grade.ORANGE, 2, 0.75), T)
    assert line == (
        "station,station=W1,kind=water_level,district=d1,area=z1 lat=39.9,lon=116.4,"
        'name="river gauge",grade="orange",grade_rank=3i,active_alerts=2i,interval_s=60.0,'
        f"completeness=0.75 {int(T * 1000)}"
    )
    assert "completeness" not in station_line(STATION, StationState(), T)


def test_threshold_lines_one_per_rung_with_its_quantity() -> None:
    rungs = (Rung(Grade.YELLOW, 3.0), Rung(Grade.RED, 4.6), Rung(Grade.ORANGE, math.nan))
    ladder = Ladder("level", "level_m", rungs, "src")
    lines = threshold_lines(STATION, [RuleSpec(Hazard.FLOOD, Kind.WATER_LEVEL, ladder, {})], T)
    assert lines == [
        f"threshold,station=W1,district=d1,hazard=flood,rule=level,quantity=level_m,"
        f"grade={grade} enter={enter} {int(T * 1000)}"
        for grade, enter in (("yellow", 3.0), ("red", 4.6))
    ]


def test_escape_tag() -> None:
    assert escape_tag("a=b, c\nd") == "a\\=b\\,\\ c d"


def test_findings_carry_the_station_position_when_known() -> None:
    finding = Finding(
        "S1", "d", Hazard.EARTHQUAKE, "intensity", Grade.RED, T, value=7.5, station="S1"
    )
    assert finding_line(finding, (39.9, 116.4)) == (
        "derived,station=S1,area=S1,district=d,hazard=earthquake,rule=intensity,grade=red "
        f"lat=39.9,lon=116.4,value=7.5,grade_rank=4i {int(T * 1000)}"
    )
