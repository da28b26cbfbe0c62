"""The pipeline runs first tier → second tier → alert book: area findings and chains reach the
book, single-station triggers do not, and completeness is exported on every tick."""

from __future__ import annotations

import json

from tests.unit.detectors.helpers import BOOK, REPO
from yujing.config import load_quantities
from yujing.config.settings import IngestSettings
from yujing.config.stations import Registry, StationSpec
from yujing.contracts import Kind
from yujing.metrics import Metrics
from yujing.pipeline import Pipeline, RawMessage

T0 = 1_800_000_000.0


def pipeline(metrics: Metrics) -> Pipeline:
    gauges = [
        StationSpec(f"R{i}", "", Kind.RAIN, "d1", 40.0, 116.3 + i / 100, 60.0, area="zone-2-0")
        for i in range(3)
    ]
    return Pipeline(
        Registry.from_specs(gauges),
        BOOK,
        load_quantities(REPO / "configs" / "quantities.yaml"),
        IngestSettings(),
        metrics=metrics,
    )


def message(station: str, ts: float, seq: int, mm: float) -> RawMessage:
    body = {"station": station, "ts": int(ts * 1000), "seq": seq, "values": {"rain_mm": mm}}
    return RawMessage(f"yujing/v1/d1/rain/{station}", json.dumps(body).encode(), ts)


def test_area_findings_and_chains_reach_the_book_and_completeness_is_exported() -> None:
    metrics = Metrics()
    pipe = pipeline(metrics)
    pipe.tick(T0)
    found = []
    for minute in range(1, 181):  # 3 h of 0.35 mm/min at every gauge: 63 mm in 3 h
        t = T0 + 60.0 * minute
        out = pipe.process([message(f"R{i}", t, minute, 0.35) for i in range(3)], t + 1.0)
        found += out.findings
        found += pipe.tick(t + 2.0).findings
    areas = {(f.area, f.rule, f.grade.value) for f in found if f.station is None}
    assert ("zone-2-0", "rainstorm", "orange") in areas and ("d1", "rainstorm", "orange") in areas
    # heavy rain on the slope zone: the debris-flow chain of configs/ladders/chains.yaml
    assert ("xishan-foothills", "slope_rainstorm", "yellow") in areas
    keys = {str(a.key) for a in pipe.book.alerts()}
    assert (
        "zone-2-0/rainstorm/rainstorm" in keys
        and "xishan-foothills/debris_flow/slope_rainstorm" in keys
    )
    sample = metrics.registry.get_sample_value(
        "yujing_station_completeness_ratio", {"station": "R1", "district": "d1", "kind": "rain"}
    )
    assert sample == 1.0
    district = metrics.registry.get_sample_value(
        "yujing_district_completeness_ratio", {"district": "d1", "kind": "all"}
    )
    assert district == 1.0
    state = json.loads(json.dumps(pipe.snapshot()))
    again = pipeline(Metrics())
    again.restore(state)
    assert again.areas.snapshot() == pipe.areas.snapshot()
