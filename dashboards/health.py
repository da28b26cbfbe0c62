"""Pipeline health, from Prometheus (docs/metrics.md): is data coming in, is it refused or late,
how fast does a reading become a notice, do notices get out, are queues growing, is the storage
writer keeping up. Two panels read InfluxDB for what only the stored data shows (arrival lag and
sequence gaps per station)."""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard as dash

from dashboards._kit import InfluxQuery
from dashboards._panels import influx_series, influx_table, prom_series, prom_stat

__all__ = ["JOB", "pipeline_health"]

JOB = "yujing"  # the scrape job in deploy/prometheus/prometheus.yml


def _p(q: float, metric: str, by: str) -> str:
    return f"histogram_quantile({q}, sum by (le, {by}) (rate({metric}_bucket[$__rate_interval])))"


def pipeline_health() -> dash.Dashboard:
    red, amber, green = "#e02f44", "#ff780a", "#56a64b"
    return (
        dash.Dashboard("yujing · pipeline health 系统运行")
        .uid("yujing-health")
        .description("Ingest, rejects, latency, delivery, queues, storage writer")
        .with_panel(
            prom_stat("Runtime up", f'up{{job="{JOB}"}}', "{{instance}}",
                      thresholds=[(None, red), (1, green)])
        )
        .with_panel(
            prom_stat("Readings / s", "sum(rate(yujing_readings_ingested_total[$__rate_interval]))",
                      "readings", unit="reqps", thresholds=[(None, red), (0.001, green)])
        )
        .with_panel(
            prom_stat("Storage writer up", "yujing_storage_up", "storage",
                      thresholds=[(None, red), (1, green)])
        )
        .with_panel(
            prom_stat("Storage lag", "time() - yujing_storage_last_success_timestamp_seconds",
                      "lag", unit="s", thresholds=[(None, green), (60, amber), (300, red)])
        )
        .with_panel(
            prom_series("Ingested by kind 接入", [(
                "sum by (kind) (rate(yujing_readings_ingested_total[$__rate_interval]))", "{{kind}}"
            )], unit="reqps")
        )
        .with_panel(
            prom_series("Rejected by reason 拒收", [(
                "sum by (reason) (rate(yujing_readings_rejected_total[$__rate_interval]))",
                "{{reason}}",
            )], unit="reqps",
                description="too_late: beyond the allowed lateness (late data); duplicate, "
                "out_of_range, …: see docs/metrics.md")
        )
        .with_panel(
            prom_series("End-to-end latency by hazard 端到端时延", [
                (_p(0.5, "yujing_end_to_end_latency_seconds", "hazard"), "p50 {{hazard}}"),
                (_p(0.99, "yujing_end_to_end_latency_seconds", "hazard"), "p99 {{hazard}}"),
            ], unit="s", description="Sensor event time of the causing reading → notice")
        )
        .with_panel(
            prom_series("Batch processing time", [
                ("histogram_quantile(0.99, sum by (le) "
                 "(rate(yujing_pipeline_batch_seconds_bucket[$__rate_interval])))", "p99"),
                ("histogram_quantile(0.99, sum by (le) "
                 "(rate(yujing_alert_journal_commit_seconds_bucket[$__rate_interval])))",
                 "journal p99"),
            ], unit="s")
        )
        .with_panel(
            prom_series("Completeness by district 数据完整率 (last hour)", [(
                'min by (district) (yujing_district_completeness_ratio{kind="all"})',
                "{{district}}",
            )], unit="percentunit",
                description="Reports received ÷ expected over the last hour (detectors/"
                "completeness.py)")
        )
        .with_panel(
            prom_series("Least complete stations 完整率最低", [(
                "bottomk(10, yujing_station_completeness_ratio)", "{{station}} ({{kind}})"
            )], unit="percentunit")
        )
        .with_panel(
            prom_series("Findings by grade 检测结果", [(
                "sum by (grade) (rate(yujing_findings_total[$__rate_interval]))", "{{grade}}"
            )], unit="reqps")
        )
        .with_panel(
            prom_series("Active alerts by grade and hazard 当前预警", [(
                "sum by (hazard, grade) (yujing_alerts_active)", "{{hazard}} {{grade}}"
            )])
        )
        .with_panel(
            prom_series("Notifications by channel and outcome 通知", [(
                "sum by (channel, outcome) (rate(yujing_notifications_total[$__rate_interval]))",
                "{{channel}} {{outcome}}",
            )], unit="reqps")
        )
        .with_panel(
            prom_series("Notification latency p90", [
                (_p(0.9, "yujing_notification_latency_seconds", "channel"), "{{channel}}")
            ], unit="s")
        )
        .with_panel(
            prom_series("Queue depths 队列", [
                ("max by (queue) (yujing_queue_depth)", "{{queue}}"),
            ], description="ingest: raw messages; notify:<channel>; storage: points to write")
        )
        .with_panel(
            prom_series("Storage writer points / s 写入", [
                ("sum by (measurement) "
                 "(rate(yujing_storage_points_written_total[$__rate_interval]))",
                 "written {{measurement}}"),
                ("sum by (reason) (rate(yujing_storage_points_dropped_total[$__rate_interval]))",
                 "dropped {{reason}}"),
            ], unit="reqps")
        )
        .with_panel(
            prom_series("Storage writer errors and latency", [
                ("sum by (error) (rate(yujing_storage_write_errors_total[$__rate_interval]))",
                 "errors {{error}}"),
                ("histogram_quantile(0.99, sum by (le) "
                 "(rate(yujing_storage_write_seconds_bucket[$__rate_interval])))",
                 "write p99 (s)"),
            ])
        )
        .with_panel(
            prom_series("Storage queue fill", [(
                'max(yujing_queue_depth{queue="storage"}) / max(yujing_storage_queue_limit_points)',
                "fill",
            )], unit="percentunit", description="Drops start at 100 %.")
        )
        .with_panel(
            prom_series("Pipeline alerts pending and firing (deploy/prometheus/rules.yml)", [(
                'sum by (alertname, alertstate) (ALERTS{alertname=~"Yujing.*"})',
                "{{alertname}} {{alertstate}}",
            )])
        )
        .with_panel(
            influx_series("Arrival lag p95 by kind 数据延迟 (InfluxDB)", [InfluxQuery(
                'SELECT percentile("lag_s", 95) FROM "reading" WHERE $timeFilter '
                'GROUP BY time($__interval), "kind" fill(none)'
            ).alias("$tag_kind")], unit="s",
                description="Ingest wall time − sensor event time of stored readings.")
        )
        .with_panel(
            influx_table(
                "Sequence gaps by station 序号缺失 (InfluxDB)",
                'SELECT sum("missing") AS "missing" FROM (SELECT difference("seq") - 1 AS '
                '"missing" FROM "reading" WHERE $timeFilter GROUP BY "station") '
                'WHERE "missing" > 0 GROUP BY "station"',
                description="Readings missing between consecutive stored ones, from `seq`.",
            )
        )
    )  # fmt: skip
