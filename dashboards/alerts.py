"""Alert timeline: every transition as an annotation, the grade of each alert over time, which
alerts wait for an acknowledgement, how long acknowledgement took, and delivery (Prometheus)."""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard as dash
from grafana_foundation_sdk.models import dashboard

from dashboards._kit import GRADE_COLOURS, InfluxAnnotation, InfluxQuery, tag_variable
from dashboards._panels import (
    active_alert_count,
    grade_stat,
    grade_timeline,
    influx_series,
    influx_table,
    prom_series,
)
from yujing.contracts import Grade

__all__ = ["alert_timeline"]

WHERE = '"hazard" =~ /^$hazard$/ AND "district" =~ /^$district$/'

_STATUS_COLOURS = {"firing": "#e02f44", "acknowledged": "#56a64b", "resolved": "#8e8e8e"}


def _annotation(name: str, reasons: str, colour: str) -> InfluxAnnotation:
    return InfluxAnnotation(
        name,
        'SELECT "message", "grade", "hazard", "area" FROM "alert" '
        f'WHERE "reason" =~ /^({reasons})$/ AND {WHERE} AND $timeFilter',
        text="message",
        tags="grade,hazard,area",
        colour=colour,
    )


def alert_timeline() -> dash.Dashboard:
    status = (
        influx_table(
            "Alerts and acknowledgement 预警与确认状态",
            'SELECT last("status") AS "status", last("grade_rank") AS "grade", '
            'last("version") AS "version", last("message") AS "message", '
            'last("stations") AS "stations", last("officer") AS "officer", '
            'last("ack_s") AS "ack_s" FROM "alert" '
            f"WHERE {WHERE} AND \"drill\" = 'false' AND $timeFilter "
            'GROUP BY "area", "hazard", "rule"',
            description="Latest transition of every alert key: firing (waiting for an "
            "acknowledgement when orange or red), acknowledged, resolved; the officer of the "
            "last acknowledgement or silence and the last time to acknowledge (s).",
        )
        .mappings(
            [
                dashboard.ValueMap(
                    options={
                        **{
                            state: dashboard.ValueMappingResult(text=state, color=c, index=i)
                            for i, (state, c) in enumerate(_STATUS_COLOURS.items())
                        },
                        **{
                            str(g.rank): dashboard.ValueMappingResult(
                                text=g.value, color=GRADE_COLOURS[g], index=10 + g.rank
                            )
                            for g in GRADE_COLOURS
                        },
                    }
                )
            ]
        )
        .span(24)
    )
    waiting = (
        grade_stat(
            "Pages waiting for acknowledgement 待确认",
            active_alert_count(WHERE, '"status" = \'firing\' AND "rank" >= 3'),
            "waiting",
            description="Orange and red alerts still firing, not acknowledged.",
        )
        .span(6)
        .height(5)
    )
    ack_influx = influx_series(
        "Time to acknowledge, per alert 确认用时",
        [
            InfluxQuery(
                'SELECT "ack_s" FROM "alert" WHERE "reason" = \'acknowledged\' '
                f'AND {WHERE} AND $timeFilter GROUP BY "area", "hazard", "rule", "grade"'
            ).alias("$tag_area $tag_rule ($tag_grade)")
        ],
        unit="s",
        description="Page (orange/red fired or upgraded) to acknowledgement, as written by the "
        "storage writer.",
    )
    ack_prom = prom_series(
        "Time to acknowledge p50 / p90 (Prometheus)",
        [
            (
                "histogram_quantile(0.5, sum by (le, grade) "
                "(rate(yujing_alert_ack_seconds_bucket[$__rate_interval])))",
                "p50 {{grade}}",
            ),
            (
                "histogram_quantile(0.9, sum by (le, grade) "
                "(rate(yujing_alert_ack_seconds_bucket[$__rate_interval])))",
                "p90 {{grade}}",
            ),
        ],
        unit="s",
    )
    reach = prom_series(
        "Reach rate 到达率 (acknowledged within target)",
        [
            (
                "sum by (grade) (increase(yujing_alert_reached_total[$__range])) / "
                "sum by (grade) (increase(yujing_alert_pages_total[$__range]))",
                "{{grade}}",
            )
        ],
        unit="percentunit",
    )
    delivery = prom_series(
        "Delivery time p90 by channel 送达用时",
        [
            (
                "histogram_quantile(0.9, sum by (le, channel) "
                "(rate(yujing_alert_deliver_seconds_bucket[$__rate_interval])))",
                "{{channel}}",
            )
        ],
        unit="s",
    )
    escalations = prom_series(
        "Escalations and reminders 升级",
        [
            (
                "sum by (grade, reason) (increase(yujing_alert_escalations_total[$__range]))",
                "{{reason}} {{grade}}",
            )
        ],
    )
    transitions = influx_series(
        "Transitions by reason 预警变化",
        [
            InfluxQuery(
                f'SELECT count("version") FROM "alert" WHERE {WHERE} AND $timeFilter '
                'GROUP BY time($__interval), "reason" fill(0)'
            ).alias("$tag_reason")
        ],
    )
    return (
        dash.Dashboard("yujing · alert timeline 预警时间线")
        .uid("yujing-alerts")
        .description("Alert transitions, acknowledgement status and time to acknowledge")
        .with_variable(
            tag_variable(
                "hazard", "Hazard 灾种", 'SHOW TAG VALUES FROM "alert" WITH KEY = "hazard"'
            )
        )
        .with_variable(
            tag_variable(
                "district", "District 区", 'SHOW TAG VALUES FROM "alert" WITH KEY = "district"'
            )
        )
        .annotation(
            _annotation("Fired / upgraded 发布", "fired|upgraded", GRADE_COLOURS[Grade.RED])
        )
        .annotation(_annotation("Acknowledged 已确认", "acknowledged", "#56a64b"))
        .annotation(_annotation("Resolved / downgraded 解除", "resolved|downgraded", "#3274d9"))
        .with_panel(
            grade_timeline(
                "Alert grade over time 预警等级变化",
                'SELECT last("grade_rank") * last("active") FROM "alert" '
                f"WHERE {WHERE} AND $timeFilter "
                'GROUP BY time($__interval), "area", "hazard", "rule" fill(previous)',
                "$tag_area $tag_hazard $tag_rule",
            ).height(12)
        )
        .with_panel(waiting)
        .with_panel(transitions.span(18).height(5))
        .with_panel(status)
        .with_panel(ack_influx)
        .with_panel(ack_prom)
        .with_panel(reach)
        .with_panel(delivery)
        .with_panel(escalations.span(24))
    )
