"""Grafana boards and provisioning for yujing, generated from code (docs/dashboards.md).

Built with grafana-foundation-sdk (Grafana Labs' dashboards-as-code builders). Boards:
city overview, one per hazard, alert timeline, pipeline health. Data panels query InfluxDB with
InfluxQL (InfluxDB 1.8+, 2.x through its v1 API, 3.x), health panels query Prometheus.

``yujing dashboards`` (or :func:`write_all`) rewrites ``dashboards/json/*.json`` and
``dashboards/provisioning/``; a test fails when the committed files differ from the code.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from grafana_foundation_sdk.builders import dashboard as dash
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models import dashboard

from dashboards._kit import DATABASE, INFLUX, PROMETHEUS
from dashboards.alerts import alert_timeline
from dashboards.hazards import HAZARD_BOARDS, hazard_board
from dashboards.health import pipeline_health
from dashboards.overview import overview
from yujing.config.ladders import LadderBook

__all__ = [
    "FOLDER",
    "Query",
    "build_all",
    "datasources",
    "provider",
    "queries",
    "render",
    "write_all",
]

FOLDER = Path(__file__).resolve().parent
#: Where the provider file tells Grafana to find the JSON (mount dashboards/json there).
GRAFANA_PATH = "/var/lib/grafana/dashboards/yujing"
TAG = "yujing"


def _flow(panels: list[dict[str, Any]]) -> None:
    """Lay panels out left to right in their order, wrapping before one would pass column 24."""
    x = y = row_height = 0
    for panel in panels:
        grid = panel["gridPos"]
        if x + grid["w"] > 24:
            x, y, row_height = 0, y + row_height, 0
        grid["x"], grid["y"] = x, y
        x += grid["w"]
        row_height = max(row_height, grid["h"])


def render(board: dash.Dashboard, *, flow: bool = True) -> dict[str, Any]:
    """The board as Grafana JSON: panels laid out (unless ``flow`` is False: the board placed
    them itself), ids numbered, shared time range, tags and links."""
    board = (
        board.tags([TAG])
        .time("now-6h", "now")
        .refresh("30s")
        .timezone("browser")
        .link(
            dash.DashboardLink("yujing boards")
            .type(dashboard.DashboardLinkType.DASHBOARDS)
            .tags([TAG])
            .as_dropdown(True)
            .include_vars(False)
            .keep_time(True)
        )
    )
    data: dict[str, Any] = json.loads(json.dumps(board.build(), cls=JSONEncoder))
    data["editable"] = False
    if flow:
        _flow(data["panels"])
    for number, panel in enumerate(data.get("panels", []), start=1):
        panel["id"] = number
    return data


def build_all(ladders: LadderBook) -> dict[str, dict[str, Any]]:
    """File name → dashboard JSON for every board."""
    rendered = [render(overview(), flow=False), render(alert_timeline())]
    rendered.append(render(pipeline_health()))
    rendered += [render(hazard_board(spec, ladders)) for spec in HAZARD_BOARDS]
    return {f"{data['uid']}.json": data for data in rendered}


def datasources() -> dict[str, Any]:
    """Grafana datasource provisioning: the uids every panel refers to."""
    return {
        "apiVersion": 1,
        "datasources": [
            {
                "name": "yujing InfluxDB (InfluxQL)",
                "uid": INFLUX.uid,
                "type": INFLUX.type_val,
                "access": "proxy",
                "url": "http://influxdb:8086",
                # InfluxDB's v1 API user (docker-compose: deploy/influxdb/init-v1.sh creates it
                # read-only and the secret file holds its password); Grafana expands both
                "user": "$INFLUX_V1_USER",
                "jsonData": {"dbName": DATABASE, "httpMode": "POST", "version": "InfluxQL"},
                "secureJsonData": {"password": "$__file{/run/secrets/influxdb_v1_password}"},
                "editable": False,
            },
            {
                "name": "yujing Prometheus",
                "uid": PROMETHEUS.uid,
                "type": PROMETHEUS.type_val,
                "access": "proxy",
                "url": "http://prometheus:9090",
                "jsonData": {"timeInterval": "15s", "httpMethod": "POST"},
                "editable": False,
            },
        ],
    }


def provider() -> dict[str, Any]:
    """Grafana dashboard provider: load every JSON file of ``GRAFANA_PATH`` into one folder."""
    return {
        "apiVersion": 1,
        "providers": [
            {
                "name": "yujing",
                "folder": "yujing 预警",
                "type": "file",
                "disableDeletion": True,
                "allowUiUpdates": False,
                "updateIntervalSeconds": 60,
                "options": {"path": GRAFANA_PATH},
            }
        ],
    }


def _yaml(data: dict[str, Any]) -> str:
    head = "# Generated by `yujing dashboards` from dashboards/*.py; do not edit by hand.\n"
    return head + yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def files(ladders: LadderBook) -> dict[str, str]:
    """Relative path → text of every generated file."""
    out = {
        f"json/{name}": json.dumps(board, indent=2, ensure_ascii=False, sort_keys=True) + "\n"
        for name, board in build_all(ladders).items()
    }
    out["provisioning/datasources/yujing.yaml"] = _yaml(datasources())
    out["provisioning/dashboards/yujing.yaml"] = _yaml(provider())
    return out


def write_all(ladders: LadderBook, folder: Path = FOLDER) -> list[Path]:
    """Write every generated file under ``folder``; remove stale board files. Returns the paths."""
    written = []
    generated = files(ladders)
    for relative, text in generated.items():
        path = folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    for stale in (folder / "json").glob("*.json"):
        if f"json/{stale.name}" not in generated:
            stale.unlink()
    return written


@dataclass(frozen=True, slots=True)
class Query:
    """One query of a board: where it sits, which datasource type, its text, and the panel's
    relative time override (``timeFrom``) if any."""

    where: str
    datasource: str
    text: str
    time_from: str | None = None


def queries(board: dict[str, Any]) -> Iterator[Query]:
    """Every query of a board's JSON: panel targets, annotations, template variables."""
    for panel in board.get("panels", []):
        for target in panel.get("targets", []):
            kind = target.get("datasource", panel.get("datasource", {})).get("type", "")
            text = target.get("query") if kind == "influxdb" else target.get("expr")
            where = f"panel {panel['title']!r} target {target.get('refId')}"
            yield Query(where, kind, str(text), panel.get("timeFrom"))
    for annotation in board.get("annotations", {}).get("list", []):
        target = annotation.get("target") or {}
        if "query" in target:
            where = f"annotation {annotation['name']!r}"
            yield Query(where, annotation["datasource"]["type"], target["query"])
    for variable in board.get("templating", {}).get("list", []):
        if "datasource" not in variable:
            continue  # a custom variable (a fixed list of values) queries nothing
        where = f"variable ${variable['name']}"
        yield Query(where, variable["datasource"]["type"], variable["query"])
