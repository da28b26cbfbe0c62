"""The shipped ladder files: every rule and chain cites a source; bad chain and quality blocks
are refused with the file, line and key path."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

from tests.unit.detectors.helpers import BOOK
from yujing.config.chains import load_chains
from yujing.config.ladders import load_ladder_file
from yujing.contracts import ConfigError, Grade, Hazard

CITED = re.compile(r"(?i:project default)|GB|CMA|QX/T|Ministry|NIOSH|Withers|Vovk|ObsPy|Trnkoczy")


def test_every_rule_and_chain_cites_its_source() -> None:
    for (hazard, rule), spec in BOOK.rules.items():
        assert CITED.search(spec.ladder.source), (hazard, rule)
    assert {c.hazard for c in BOOK.chains} == {
        Hazard.FLASH_FLOOD,
        Hazard.DEBRIS_FLOW,
        Hazard.TANK_INTEGRITY,
    }
    for chain in BOOK.chains:
        assert CITED.search(chain.source), chain.rule


def test_every_rule_that_can_page_orange_or_red_says_whether_neighbours_must_agree() -> None:
    for (hazard, rule), spec in BOOK.rules.items():
        if spec.kind is None or max(r.grade.rank for r in spec.ladder.rungs) < Grade.ORANGE.rank:
            continue  # an area rule (the seismic network), or never gated
        assert spec.params.get("agree_k") in (1, 2), (hazard, rule)
        assert "agree" in spec.ladder.source, (hazard, rule)  # and the source says why
    agree = {key: spec.params.get("agree_k") for key, spec in BOOK.rules.items()}
    # neighbours sample the same field: rain gauges, strong-motion stations
    for key in ((Hazard.RAINSTORM, "rainstorm"), (Hazard.RAINSTORM, "short_heavy_rain"),
                (Hazard.EARTHQUAKE, "intensity")):  # fmt: skip
        assert agree[key] == 2, key
    # local by nature: a point-source leak, a gauge against its own levels, a tank's set points
    for key in ((Hazard.TOXIC_GAS, "nh3"), (Hazard.TOXIC_GAS, "cl2"), (Hazard.TOXIC_GAS, "h2s"),
                (Hazard.GAS_LEAK, "ch4"), (Hazard.FLOOD, "level"), (Hazard.FLOOD, "level_rise"),
                (Hazard.PONDING, "depth"), (Hazard.TANK, "tank_pressure"),
                (Hazard.TANK, "tank_temperature"), (Hazard.TANK, "runaway")):  # fmt: skip
        assert agree[key] == 1, key
    for hazard in (Hazard.TOXIC_GAS, Hazard.GAS_LEAK):  # so one spike cannot page alone
        for (h, rule), spec in BOOK.rules.items():
            if h is hazard and spec.ladder.quantity.endswith(("_ppm", "_pct_lel")):
                assert (spec.params["persist_n"], spec.params["persist_m"]) == (2, 3), rule


def test_the_issue_s_ladders_are_there() -> None:
    rain = BOOK.get(Hazard.RAINSTORM, "rainstorm").ladder
    assert [(r.grade.value, r.quantity, r.enter) for r in rain.rungs] == [
        ("blue", "rain_12h_mm", 50.0), ("yellow", "rain_6h_mm", 50.0),
        ("orange", "rain_3h_mm", 50.0), ("red", "rain_3h_mm", 100.0),
    ]  # fmt: skip
    assert BOOK.get(Hazard.RAINSTORM, "short_heavy_rain").ladder.rungs[0].enter == 20.0
    gas = BOOK.get(Hazard.GAS_LEAK, "ch4")
    assert [r.enter for r in gas.ladder.rungs][1:] == [25.0, 50.0]  # GB/T 50493 two levels
    assert (gas.params["persist_n"], gas.params["persist_m"]) == (2, 3)
    for substance in ("nh3", "cl2", "h2s"):
        BOOK.get(Hazard.TOXIC_GAS, substance)
    for rule in ("level_rise", "level_ahead"):
        BOOK.get(Hazard.FLOOD, rule)
    BOOK.get(Hazard.PONDING, "depth_rise")
    BOOK.get(Hazard.TANK, "runaway")
    BOOK.get(Hazard.EARTHQUAKE, "trigger")
    BOOK.get(Hazard.EARTHQUAKE, "event")


def write(tmp_path: Path, text: str, name: str = "chains.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


CHAIN = """
chains:
  - rule: r
    hazard: flash_flood
    grade: {grade}
    window_s: 60
    source: project default
    when:
      - {{hazard: rainstorm, min_grade: blue{scope}}}
    then: {then}
"""


@pytest.mark.parametrize(
    ("grade", "scope", "then", "message"),
    [
        ("none", ", areas: [z]", "{areas: [v]}", r"chains\[0\]\.grade: none is not a warning"),
        ("yellow", "", "{areas: [v]}", r"chains\[0\]\.when\[0\]: a leg needs a scope"),
        ("yellow", ", areas: [z]", "{district: d}", r"chains\[0\]\.then: give areas or sites"),
    ],
)
def test_bad_chains_are_named(
    tmp_path: Path, grade: str, scope: str, then: str, message: str
) -> None:
    path = write(tmp_path, CHAIN.format(grade=grade, scope=scope, then=then))
    with pytest.raises(ConfigError, match=message) as caught:
        load_chains(path)
    assert str(path) in str(caught.value)


def test_bad_quality_blocks_are_named(tmp_path: Path) -> None:
    ladder = """
    hazard: ponding
    kind: ponding
    rules:
      - {rule: depth, quantity: depth_cm, source: project default,
         rungs: [{grade: blue, enter: 5}]}
    quality:
      depth_cm: {span_min: 10, span_max: 5}
    """
    with pytest.raises(ConfigError, match=r"quality\.depth_cm\.span_max: 5 must be above"):
        load_ladder_file(write(tmp_path, ladder, "ponding.yaml"))
    with pytest.raises(ConfigError, match=r"quality\.depth_cm\.persist_n: 4 must not exceed"):
        load_ladder_file(
            write(
                tmp_path,
                ladder.replace("span_min: 10, span_max: 5", "persist_n: 4, persist_m: 3"),
                "ponding.yaml",
            )
        )
