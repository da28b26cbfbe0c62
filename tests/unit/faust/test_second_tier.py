"""The second tier in the scale-out runtime (issue 7): readings are keyed and partitioned by
station, while area rain, the seismic network's coincidence and the hazard chains judge areas
and districts from many stations — across readings partitions, and a chain across districts. The
detect agents therefore send every station record to the network topic's single partition,
where one second tier sees them all (docs/operations.md, "The second tier"); its findings then go
to the findings partition of their district, whose alert book owns them.

Driven in Faust's test harness against the embedded runtime on the demo district with its whole
seismic network over the quake."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from pathlib import Path

from alerting.codec import finding_from_json
from tests.unit.faust.helpers import (
    demo_schedule,
    finding_key,
    parts_for,
    run_embedded,
    run_faust,
    settings_for,
)
from yujing.contracts import Finding, Hazard
from yujing.runtime.faust.records import partition_for

PARTITIONS = 5  # the stations that declare the quake then live in three readings partitions


def parsed(counters: list[Counter[str]]) -> list[Finding]:
    return [finding_from_json(json.loads(key)) for counter in counters for key in counter]


def test_area_network_and_chain_rules_see_stations_of_every_partition_as_embedded_does(
    tmp_path: Path,
) -> None:
    settings = settings_for(tmp_path, PARTITIONS)
    parts = parts_for(settings)
    items = demo_schedule(200.0, 330.0, seismic=None)
    embedded = asyncio.run(run_embedded(settings, parts, items))
    faust = asyncio.run(run_faust(settings_for(tmp_path / "faust", PARTITIONS), parts, items))
    for index, (mine, theirs) in enumerate(zip(faust.findings, embedded.findings, strict=True)):
        assert mine == theirs, f"findings differ at item {index}"
    assert faust.notices == embedded.notices

    registry = parts.registry
    where = {spec.id: partition_for(spec.id, PARTITIONS) for spec in registry}
    found = parsed(faust.findings)
    spread: dict[str, int] = {}  # district → most readings partitions behind one declaration
    foreign: set[str] = set()  # districts whose declaration used another district's station
    for f in found:
        if (f.hazard, f.rule) == (Hazard.EARTHQUAKE, "event") and f.grade.is_warning:
            stations = f.evidence["stations"]
            spread[f.district] = max(spread.get(f.district, 0), len({where[s] for s in stations}))
            if any(registry.stations[s].district != f.district for s in stations):
                foreign.add(f.district)
    assert spread.keys() == {"haidian", "chaoyang"}  # each district's network declared it
    assert min(spread.values()) >= 2 and foreign == {"haidian", "chaoyang"}, (spread, foreign)

    zones = {f.area for f in found if f.hazard is Hazard.RAINSTORM and f.area.startswith("zone-")}
    assert zones
    for zone in zones:  # a zone's gauges live in several readings partitions
        assert len({where[s.id] for s in registry if s.area == zone}) >= 2

    chains = [f for f in found if f.rule == "quake_near_chemical_site"]
    crossing = [  # a chemical site in chaoyang, raised by a haidian seismic station
        f
        for f in chains
        for leg in f.evidence["legs"]
        for station in leg["subjects"]
        if registry.stations[station].district != f.district
    ]
    assert crossing, [finding_key(f) for f in chains]
    # and each district's findings went to its own findings partition, where its book lives
    assert faust.routed == {d: {partition_for(d, PARTITIONS)} for d in registry.districts}
