"""The Grafana boards as Grafana would load them (Grafana itself is not installed here): the
committed JSON is what the code generates, every panel points at a provisioned datasource, has
queries, fits the grid, and names only metrics and variables that exist."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

import dashboards
from yujing.config import load_ladders
from yujing.contracts import Hazard
from yujing.metrics import Metrics

REPO = Path(__file__).resolve().parents[2]
LADDERS = load_ladders(REPO / "configs" / "ladders")
BOARDS = dashboards.build_all(LADDERS)
MACROS = {
    "timeFilter",
    "__interval",
    "__rate_interval",
    "__range",
    "tag_station",
    "tag_grade",
    "tag_rule",
    "tag_area",
    "tag_hazard",
    "tag_quantity",
    "tag_reason",
    "tag_kind",
    "col",
}


def provisioned() -> dict[str, str]:
    text = (dashboards.FOLDER / "provisioning" / "datasources" / "yujing.yaml").read_text()
    return {d["uid"]: d["type"] for d in yaml.safe_load(text)["datasources"]}


def test_committed_files_are_what_the_code_generates() -> None:
    stale = [
        relative
        for relative, text in dashboards.files(LADDERS).items()
        if not (dashboards.FOLDER / relative).exists()
        or (dashboards.FOLDER / relative).read_text(encoding="utf-8") != text
    ]
    extra = sorted(
        p.name
        for p in (dashboards.FOLDER / "json").glob("*.json")
        if p.name not in {n for n in BOARDS}
    )
    assert not stale and not extra, (
        f"dashboards/ out of date ({stale + extra}): run `yujing dashboards` and commit"
    )


def test_the_boards_the_issue_asks_for_exist() -> None:
    uids = {b["uid"] for b in BOARDS.values()}
    assert {"yujing-overview", "yujing-alerts", "yujing-health"} <= uids
    covered = {
        t["query"]
        for b in BOARDS.values()
        for p in b["panels"]
        for t in p.get("targets", [])
        if "query" in t
    }
    hazards_with_ladders = {hazard for hazard, _ in LADDERS.rules}
    for hazard in hazards_with_ladders:  # each hazard has a board that filters on it
        assert any(f"\"hazard\" = '{hazard.value}'" in q for q in covered), hazard
    assert Hazard.SENSOR not in hazards_with_ladders
    types = {p["type"] for b in BOARDS.values() for p in b["panels"]}
    assert {"geomap", "stat", "timeseries", "table", "state-timeline", "bargauge"} <= types
    assert len(BOARDS["yujing-alerts.json"]["annotations"]["list"]) == 3


@pytest.mark.parametrize("name", sorted(BOARDS))
def test_every_panel_is_well_formed(name: str) -> None:
    board = BOARDS[name]
    sources = provisioned()
    assert board["uid"].startswith("yujing-") and len(board["uid"]) <= 40
    assert board["schemaVersion"] >= 39 and board["title"] and board["panels"]
    ids = [p["id"] for p in board["panels"]]
    assert len(ids) == len(set(ids))
    cells: dict[tuple[int, int], str] = {}
    for panel in board["panels"]:
        title = panel["title"]
        source = panel["datasource"]
        assert sources.get(source["uid"]) == source["type"], (title, source)
        targets = panel["targets"]
        assert targets, f"{title}: no query"
        ref_ids = [t["refId"] for t in targets]
        assert all(ref_ids) and len(ref_ids) == len(set(ref_ids)), (title, ref_ids)
        for target in targets:
            assert target["datasource"] == source, (title, target)
            if source["type"] == "influxdb":
                assert target["rawQuery"] is True
                assert target["resultFormat"] in {"time_series", "table"}
                assert "$timeFilter" in target["query"], (title, target["query"])
            else:
                assert target["expr"].strip(), title
        grid = panel["gridPos"]
        assert grid["w"] > 0 and grid["h"] > 0 and grid["x"] >= 0 and grid["x"] + grid["w"] <= 24
        for x in range(grid["x"], grid["x"] + grid["w"]):
            for y in range(grid["y"], grid["y"] + grid["h"]):
                assert (x, y) not in cells, f"{title} overlaps {cells[(x, y)]}"
                cells[(x, y)] = title
        if panel["type"] == "geomap":
            check_map(panel)
    for annotation in board.get("annotations", {}).get("list", []):
        assert sources.get(annotation["datasource"]["uid"]) == "influxdb"
        assert annotation["target"]["textColumn"] in annotation["target"]["query"]
    defined = {v["name"] for v in board.get("templating", {}).get("list", [])}
    for variable in board.get("templating", {}).get("list", []):
        if variable["type"] == "custom":  # a fixed choice (show/hide suspect readings)
            assert variable["current"]["value"] in {o["value"] for o in variable["options"]}
            continue
        assert sources.get(variable["datasource"]["uid"]) == variable["datasource"]["type"]
        assert variable["includeAll"] and variable["allValue"] == ".*"
    for query in dashboards.queries(board):
        used = set(re.findall(r"\$\{?(\w+)", query.text))
        assert used <= defined | MACROS, (query.where, used - defined - MACROS)


def check_map(panel: dict[str, Any]) -> None:
    query = panel["targets"][0]["query"]
    assert panel["targets"][0]["resultFormat"] == "table"
    for layer in panel["options"]["layers"]:
        location = layer["location"]
        assert location["mode"] == "coords"
        for column in (
            location["latitude"],
            location["longitude"],
            layer["config"]["style"]["color"]["field"],
        ):
            assert f'AS "{column}"' in query, (panel["title"], column)


def metric_names() -> set[str]:
    names = {"up", "ALERTS"}
    for family in Metrics().registry.collect():
        names.add(family.name)
        names.update(f"{family.name}{suffix}" for suffix in ("_total", "_bucket", "_count", "_sum"))
    return names


def test_every_metric_a_board_or_rule_names_exists() -> None:
    known = metric_names()
    exprs = [q.text for b in BOARDS.values() for q in dashboards.queries(b)]
    exprs = [e for e in exprs if "yujing_" in e or "up{" in e]
    rules = yaml.safe_load((REPO / "deploy" / "prometheus" / "rules.yml").read_text())
    exprs += [r["expr"] for g in rules["groups"] for r in g["rules"]]
    names = set().union(*(set(re.findall(r"\b(yujing_[a-z0-9_]+)", e)) for e in exprs))
    assert names, "no metric found in the boards"
    assert names <= known, sorted(names - known)
