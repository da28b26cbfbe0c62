"""Every query of every board, run against real servers with Grafana's macros filled in:

- InfluxQL on InfluxDB 1.x, loaded with what the pipeline produces for an episode of every
  family, encoded by the storage schema exactly as the writer encodes it;
- PromQL on Prometheus scraping a live embedded runtime (with the pipeline rules loaded).

Grafana itself is not installed here: the panels' rendering is not exercised, their queries are.
"""

from __future__ import annotations

import functools
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

import dashboards
from dashboards._kit import DATABASE
from dashboards.health import JOB
from tests.support.runtime import Sender, running, write_settings
from tests.support.services import HttpReceiver, wait_for
from tests.support.streams import FAMILIES, build_pipeline, every_family, parts, registry_file
from tests.support.tsdb import InfluxDB1, Prometheus, VictoriaMetrics
from yujing.broker import Broker
from yujing.config import load_ladders
from yujing.contracts import AlertState, Finding, Grade, Hazard, Notice, NoticeReason
from yujing.storage import StationBoard, notice_line, result_lines, station_line, threshold_lines

REPO = Path(__file__).resolve().parents[2]


def influx_lines(folder: Path, now: float) -> list[str]:
    """Two hours of every family through the real pipeline, plus what only a longer run adds:
    an acknowledgement, a resolution, an STA/LTA trigger, an anomaly score past its rung (the
    detector needs days of history), and the writer's periodic station and threshold points
    every 10 min."""
    path = registry_file(folder, FAMILIES)
    registry, ladders = parts(path)
    result = build_pipeline(path).process(every_family(now), now)
    positions = {s.id: (s.lat, s.lon) for s in registry}
    lines = result_lines(result.readings, result.findings, positions)
    trigger = Finding(
        "S1",
        "d2",
        Hazard.EARTHQUAKE,
        "trigger",
        Grade.BLUE,
        now - 61,
        value=6.2,
        threshold=5.0,
        quantity="sta_lta",
        station="S1",
    )
    anomaly = Finding(
        "G1",
        "d2",
        Hazard.ANOMALY,
        "pipeline_pressure",
        Grade.BLUE,
        now - 570,
        value=3.4,
        threshold=3.0,
        quantity="pressure_kpa_surprise",
        station="G1",
    )
    lines += result_lines([], [trigger, anomaly], positions)
    board = StationBoard(registry)
    board.observe_readings(result.readings)
    red = next(n for n in result.notices if n.grade is Grade.RED and n.key.area == "S1")
    blue = next(n for n in result.notices if n.grade is Grade.BLUE)
    extra = [
        Notice(
            anomaly.alert_key,
            1,
            NoticeReason.FIRED,
            Grade.BLUE,
            Grade.NONE,
            AlertState.FIRING,
            "d2",
            anomaly.ts,
            value=anomaly.value,
            threshold=anomaly.threshold,
            message="pipeline pressure anomaly",
            stations=("G1",),
        ),
        Notice(
            red.key,
            red.version + 1,
            NoticeReason.ACKNOWLEDGED,
            Grade.RED,
            Grade.RED,
            AlertState.ACKNOWLEDGED,
            red.district,
            now + 1,
            message="acknowledged by li",
            stations=red.stations,
        ),
        Notice(
            blue.key,
            blue.version + 9,
            NoticeReason.RESOLVED,
            Grade.NONE,
            blue.grade,
            AlertState.RESOLVED,
            blue.district,
            now + 2,
            message="cleared",
            stations=blue.stations,
        ),
    ]
    for notice in [*result.notices, *extra]:
        ack_s, _ = board.observe_notice(notice)
        lines.append(notice_line(notice, ack_s))
    intervals = {s.id: s.interval_s for s in registry}
    for k, ts in enumerate(range(int(now) - 7200, int(now) + 1, 600)):
        states = board.states(
            list(registry.stations), elapsed_s=600.0 * (k > 0), intervals=intervals
        )
        lines += [station_line(registry.stations[s], state, ts) for s, state in states.items()]
        for station in registry:
            lines += threshold_lines(station, ladders.for_station(station), ts)
    return lines


def fill(text: str, values: dict[str, str], time_from: str | None) -> str:
    """Grafana's substitution: $timeFilter (honouring a panel's relative time), $__interval and
    the board's variables (``.*`` is what "All" becomes)."""
    text = text.replace("$timeFilter", f"time >= now() - {time_from or '6h'}")
    text = text.replace("$__interval", "1m")
    return re.sub(r"\$(\w+)", lambda m: values.get(m.group(1), m.group(0)), text)


@pytest.fixture(scope="module")
def influxdb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InfluxDB1]:
    folder = tmp_path_factory.mktemp("influxdb")
    server = InfluxDB1(folder / "server").start()
    try:
        server.query(f'CREATE DATABASE "{DATABASE}"')
        server.write(DATABASE, influx_lines(folder / "cfg", time.time()))
        yield server
    finally:
        server.stop()


@functools.cache
def boards() -> dict[str, dict[str, Any]]:
    return dashboards.build_all(load_ladders(REPO / "configs" / "ladders"))


@pytest.mark.parametrize("name", sorted(boards()))
def test_every_influxql_query_returns_series(name: str, influxdb: InfluxDB1) -> None:
    board = boards()[name]
    queries = [q for q in dashboards.queries(board) if q.datasource == "influxdb"]
    variables = [q for q in queries if q.where.startswith("variable")]
    custom = {  # fixed choices, at their default
        v["name"]: v["current"]["value"]
        for v in board.get("templating", {}).get("list", [])
        if v["type"] == "custom"
    }
    everything = {q.where.split("$")[1]: ".*" for q in variables} | custom
    first: dict[str, str] = dict(custom)
    for variable in variables:  # the variable's own query, and its first value
        result = influxdb.query(fill(variable.text, {}, None), DATABASE)["results"][0]
        assert "error" not in result and result.get("series"), (variable.where, result)
        first[variable.where.split("$")[1]] = re.escape(result["series"][0]["values"][0][1])
    empty, failed = [], []
    for query in queries:
        if query in variables:
            continue
        for values in (everything, first):  # "All", then one concrete value
            result = influxdb.query(fill(query.text, values, query.time_from), DATABASE)
            answer = result["results"][0]
            if "error" in answer:
                failed.append((query.where, answer["error"]))
            elif values is everything and not answer.get("series"):
                empty.append(query.where)
    assert not failed, failed
    assert not empty, f"queries without data: {empty}"


def test_every_promql_query_runs_on_prometheus_scraping_a_live_runtime(
    tmp_path: Path, mosquitto: Broker, http_receiver: HttpReceiver
) -> None:
    vm = VictoriaMetrics(tmp_path / "vm").start()
    settings = write_settings(
        tmp_path / "rt",
        broker_url=mosquitto.url,
        stations=FAMILIES,
        webhook_urls=[http_receiver.url],
        extra={"storage": {"enabled": True, "url": vm.url, "flush_interval_s": 0.1}},
    )
    prometheus: Prometheus | None = None
    try:
        with running(settings) as rt:
            sender = Sender(mosquitto.host, mosquitto.port)
            for message in every_family(time.time()):
                sender.raw(message.topic, message.payload)
            sender.raw("yujing/v1/d2/gas/G1", b"{not json")  # one reject
            wait_for(lambda: http_receiver.bodies(), 20)
            wait_for(lambda: rt.metric("yujing_storage_up") == 1, 20)
            config = tmp_path / "prometheus.yml"
            config.write_text(
                yaml.safe_dump(
                    {
                        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
                        "rule_files": [str(REPO / "deploy" / "prometheus" / "rules.yml")],
                        "scrape_configs": [
                            {
                                "job_name": JOB,
                                "static_configs": [
                                    {"targets": [f"127.0.0.1:{rt.settings.metrics.port}"]}
                                ],
                            }
                        ],
                    }
                )
            )
            prometheus = Prometheus(tmp_path / "prometheus", config).start()
            scraped = 'count_over_time(up{job="yujing"}[1m]) >= 3'
            wait_for(lambda: prometheus.query(scraped)["data"]["result"], 30, 0.2)
            check_promql(prometheus)

            def rules() -> list[dict[str, Any]]:
                assert prometheus is not None
                group: list[dict[str, Any]] = prometheus.get("/api/v1/rules")["data"]["groups"]
                return list(group[0]["rules"])

            wait_for(lambda: all(r["lastEvaluation"] > "2000" for r in rules()), 20, 0.2)
            evaluated = rules()
            assert len(evaluated) == 10 and all(r["health"] == "ok" for r in evaluated), evaluated
            firing = {r["name"] for r in evaluated if r["state"] != "inactive"}
            print(f"\npipeline rules pending or firing against the live runtime: {firing}")
            assert not firing & {"YujingDown", "YujingStorageWriterDown"}, firing
            sender.close()
    finally:
        if prometheus is not None:
            prometheus.stop()
        vm.stop()


def check_promql(prometheus: Prometheus) -> None:
    present = {
        name
        for name in prometheus.get("/api/v1/label/__name__/values")["data"]
        if name.startswith("yujing_") or name in ("up", "ALERTS")
    }
    empty, answered = [], 0
    for name, board in sorted(boards().items()):
        for query in dashboards.queries(board):
            if query.datasource != "prometheus":
                continue
            expr = query.text.replace("$__rate_interval", "30s").replace("$__range", "5m")
            result = prometheus.query(expr)["data"]["result"]  # raises unless it evaluates
            names = set(re.findall(r"\b(yujing_[a-z0-9_]+|ALERTS|up)\b", expr))
            if result:
                answered += 1
            elif names <= present:
                empty.append((name, query.where, expr))
    assert not empty, f"queries on metrics Prometheus has, without data: {empty}"
    assert answered >= 15, answered
