"""Real floods, real leaks, a real anomaly benchmark: the Guadalupe flash flood of 4 July 2025
(USGS), the Chilbolton controlled methane releases (2017) and the NAB subset."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.realdata.nab import load_corpus, normalised, score_file
from tests.realdata.validation import HUNT, chilbolton, guadalupe_flood, nab_scores

pytestmark = pytest.mark.realdata


def test_guadalupe_rate_of_rise_leads_the_crest_and_the_failed_gauge_turns_unknown(
    datasets: Path,
) -> None:
    results = {r.site: r for r in guadalupe_flood(datasets)}
    flooded = [r for r in results.values() if r.rise_m >= 3.0]  # the gauges the wave reached
    assert {r.site for r in flooded} >= {"08165300", HUNT, "08166200", "08167000", "08167500"}
    for r in flooded:  # the first rate-of-rise finding comes well before the stage peaks
        assert r.lead_s is not None and r.lead_s >= 3600.0, (r.site, r.lead_s)
    kerrville = results["08166200"]
    assert kerrville.first_rise_grade == "orange" and kerrville.lead_s == 75 * 60
    hunt = [g for _, g in results[HUNT].grades]
    assert hunt[-2:] == ["flood/level_rise:unknown", "sensor/silence:blue"]  # not clear
    assert "flood/level_rise:none" not in hunt[hunt.index("flood/level_rise:blue") :]
    quiet = [r for r in results.values() if r.rise_m < 0.25]  # not reached before the file ends
    assert quiet and all(r.first_rise_ts is None for r in quiet)  # no rise finding there


def test_chilbolton_releases_are_detected_with_few_false_alarms(datasets: Path) -> None:
    results = {r.release: r for r in chilbolton(datasets)}
    for name in ("rel03", "rel04", "rel05"):  # background before and after each
        r = results[name]
        assert r.beams_alarmed >= 5, r
        assert r.site_first_onset_min is not None and -3.0 <= r.site_first_onset_min <= 5.0, r
    assert results["rel02"].beams_alarmed >= 3  # beams started 4 min into this one
    false = sum(r.false_alarms for r in results.values())
    hours = sum(r.background_beam_h for r in results.values())
    assert false <= 3 and hours > 1.0  # measured: 3 beam alarms in 1.07 beam-hours
    assert sum(r.site_false_alarms for r in results.values()) <= 2


def test_nab_scorer_gives_0_for_nothing_and_100_for_perfect(datasets: Path) -> None:
    corpus = load_corpus(datasets / "nab")
    assert len(corpus) == 28 and sum(len(f.windows) for f in corpus) == 36
    n = 36
    assert normalised(sum(score_file(f, [])[0] for f in corpus), n) == 0.0
    perfect = sum(score_file(f, [lo for lo, _ in f.windows])[0] for f in corpus)
    assert normalised(perfect, n) == pytest.approx(100.0)


def test_nab_score_of_the_anomaly_detector(datasets: Path) -> None:
    standard = next(r for r in nab_scores(datasets) if r.profile == "standard")
    # published detectors on these 28 files, threshold tuned here (nab/PROVENANCE.md):
    # randomCutForest 53.7, relativeEntropy 50.1, skyline 46.2, windowedGaussian 26.5
    assert standard.tuned_score >= 48.0  # measured 49.8 (threshold 2.7)
    assert standard.shipped_score >= 46.0  # alpha = 0.001 as shipped, no tuning at all: 49.3


def test_the_nab_harness_measures_the_shipped_detector_itself(datasets: Path) -> None:
    """The NAB rows come from the scorer and ladder replayed offline; they must be exactly the
    findings the real AnomalyDetector raises on the same series."""
    from detectors import AnomalyDetector
    from tests.realdata.validation import nab_onsets, nab_surprises
    from tests.unit.detectors.helpers import BOOK
    from yujing.config.stations import StationSpec
    from yujing.contracts import Grade, Hazard, Kind, Reading

    corpus, surprises = nab_surprises(datasets)
    rule = BOOK.get(Hazard.ANOMALY, "flow")
    rung = rule.ladder.rungs[0]
    for nab in corpus[5:8]:  # the first artificial files with an anomaly
        spec = StationSpec("N1", "", Kind.WATER_LEVEL, "d1", 0.0, 0.0, 300.0)
        detector = AnomalyDetector(spec, [rule])
        rows = []
        for i, (ts, value) in enumerate(zip(nab.ts, nab.values, strict=True)):
            out = detector.update(Reading("N1", Kind.WATER_LEVEL, "d1", ts, i, {"flow_m3s": value}))
            rows += [i for f in out if f.grade is Grade.BLUE]
        expected = nab_onsets(surprises[nab.name], nab.ts, rung.enter, rung.hysteresis,
                              rung.min_dwell_s)  # fmt: skip
        assert rows == expected, nab.name
