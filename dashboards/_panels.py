"""Panel shapes used on several boards, each a function returning an SDK panel builder.

Queries are InfluxQL against our schema (docs/storage.md) or PromQL against our metrics
(docs/metrics.md); Grafana's macros (``$timeFilter``, ``$__interval``, ``$__rate_interval``) and
the board's variables are left in for Grafana to fill.
"""

from __future__ import annotations

from grafana_foundation_sdk.builders import bargauge, common, stat, statetimeline, table, timeseries
from grafana_foundation_sdk.builders import dashboard as dash
from grafana_foundation_sdk.models import common as common_models
from grafana_foundation_sdk.models import dashboard

from dashboards._kit import (
    GRADE_COLOURS,
    INFLUX,
    PROMETHEUS,
    InfluxQuery,
    grade_mappings,
    grade_thresholds,
    prom,
)
from yujing.contracts import Grade

__all__ = [
    "active_alert_count",
    "alerts_by_grade",
    "alerts_by_hazard",
    "alerts_table",
    "grade_stat",
    "grade_timeline",
    "influx_series",
    "influx_table",
    "prom_series",
    "prom_stat",
]


def last_values() -> common.ReduceDataOptions:
    return common.ReduceDataOptions().calcs(["lastNotNull"]).values(False)


def influx_series(
    title: str, targets: list[InfluxQuery], *, unit: str = "short", description: str = ""
) -> timeseries.Panel:
    panel = (
        timeseries.Panel()
        .title(title)
        .description(description)
        .datasource(INFLUX)
        .unit(unit)
        .span_nulls(True)
        .legend(
            common.VizLegendOptions()
            .display_mode(common_models.LegendDisplayMode.LIST)
            .placement(common_models.LegendPlacement.BOTTOM)
            .show_legend(True)
        )
        .height(9)
        .span(12)
    )
    for target in targets:
        panel = panel.with_target(target)
    return panel


def influx_table(title: str, query: str, *, description: str = "") -> table.Panel:
    return (
        table.Panel()
        .title(title)
        .description(description)
        .datasource(INFLUX)
        .with_target(InfluxQuery(query).table())
        .mappings(grade_mappings())
        .height(9)
        .span(12)
    )


def alerts_table(title: str, where: str, limit: int = 100) -> table.Panel:
    """The latest alert transitions matching ``where`` (InfluxQL conditions), newest first."""
    query = (
        'SELECT "grade", "hazard", "area", "rule", "status", "reason", "message", "value", '
        f'"threshold", "version" FROM "alert" WHERE {where} AND $timeFilter '
        f"ORDER BY time DESC LIMIT {limit}"
    )
    return influx_table(title, query).span(24)


def grade_stat(title: str, query: str, alias: str, *, description: str = "") -> stat.Panel:
    """A stat coloured by grade from a ``grade_rank`` (-1 … 4)."""
    return (
        stat.Panel()
        .title(title)
        .description(description)
        .datasource(INFLUX)
        .with_target(InfluxQuery(query).alias(alias))
        .mappings(grade_mappings())
        .thresholds(grade_thresholds())
        .color_scheme(dash.FieldColor().mode(dashboard.FieldColorModeId.THRESHOLDS))
        .color_mode(common_models.BigValueColorMode.BACKGROUND)
        .graph_mode(common_models.BigValueGraphMode.NONE)
        .text_mode(common_models.BigValueTextMode.VALUE_AND_NAME)
        .reduce_options(last_values())
        .height(6)
        .span(24)
    )


def grade_timeline(title: str, query: str, alias: str) -> statetimeline.Panel:
    """Grade over time, one lane per series, coloured by grade."""
    return (
        statetimeline.Panel()
        .title(title)
        .datasource(INFLUX)
        .with_target(InfluxQuery(query).alias(alias))
        .mappings(grade_mappings())
        .thresholds(grade_thresholds())
        .color_scheme(dash.FieldColor().mode(dashboard.FieldColorModeId.THRESHOLDS))
        .show_value(common_models.VisibilityMode.NEVER)
        .height(9)
        .span(24)
    )


_ACTIVE = (
    'SELECT last("grade_rank") AS "rank", last("active") AS "active", last("status") AS "status" '
    'FROM "alert" WHERE "drill" = \'false\' AND {where} AND $timeFilter '
    'GROUP BY "area", "hazard", "rule"'
)


def active_alert_count(where: str, condition: str, group_by: str = "") -> str:
    """InfluxQL: how many alerts (latest transition per key) are active and meet ``condition``
    (on ``rank`` and ``status``), optionally per ``group_by`` tag of the key."""
    inner = _ACTIVE.format(where=where)
    group = f" GROUP BY {group_by}" if group_by else ""
    return (
        f'SELECT count("rank") AS "alerts" FROM ({inner}) WHERE "active" = 1 AND {condition}{group}'
    )


def _fixed_colour(grade: Grade) -> list[dashboard.DynamicConfigValue]:
    return [
        dashboard.DynamicConfigValue(
            id_val="color", value={"mode": "fixed", "fixedColor": GRADE_COLOURS[grade]}
        )
    ]


_WARNING = (Grade.RED, Grade.ORANGE, Grade.YELLOW, Grade.BLUE)


def alerts_by_grade(title: str, where: str) -> stat.Panel:
    """Active alerts per warning grade: one target per grade, each in its grade's colour."""
    panel = (
        stat.Panel()
        .title(title)
        .datasource(INFLUX)
        .color_mode(common_models.BigValueColorMode.BACKGROUND)
        .graph_mode(common_models.BigValueGraphMode.NONE)
        .text_mode(common_models.BigValueTextMode.VALUE_AND_NAME)
        .reduce_options(last_values())
        .no_value("0")
        .height(5)
        .span(12)
    )
    for grade in _WARNING:
        query = active_alert_count(where, f'"rank" = {grade.rank}')
        panel = panel.with_target(InfluxQuery(query, grade.value).alias(grade.value))
        panel = panel.override_by_name(grade.value, _fixed_colour(grade))
    return panel


def alerts_by_hazard(title: str, where: str) -> bargauge.Panel:
    """Active alerts per hazard and warning grade, bars in the grade's colour."""
    panel = (
        bargauge.Panel()
        .title(title)
        .datasource(INFLUX)
        .orientation(common_models.VizOrientation.HORIZONTAL)
        .display_mode(common_models.BarGaugeDisplayMode.BASIC)
        .reduce_options(last_values())
        .height(9)
        .span(12)
    )
    for grade in _WARNING:
        query = active_alert_count(where, f'"rank" = {grade.rank}', '"hazard"')
        alias = f"$tag_hazard {grade.value}"
        panel = panel.with_target(InfluxQuery(query, grade.value).alias(alias))
        panel = panel.override_by_regexp(f".* {grade.value}$", _fixed_colour(grade))
    return panel


def prom_series(
    title: str,
    exprs: list[tuple[str, str]],
    *,
    unit: str = "short",
    description: str = "",
    span: int = 12,
) -> timeseries.Panel:
    """A time series of PromQL expressions given as (expr, legend)."""
    panel = (
        timeseries.Panel()
        .title(title)
        .description(description)
        .datasource(PROMETHEUS)
        .unit(unit)
        .height(8)
        .span(span)
    )
    for index, (expr, legend) in enumerate(exprs):
        panel = panel.with_target(prom(expr, legend, chr(ord("A") + index)))
    return panel


def prom_stat(
    title: str,
    expr: str,
    legend: str,
    *,
    unit: str = "short",
    thresholds: list[tuple[float | None, str]] | None = None,
    description: str = "",
) -> stat.Panel:
    steps = thresholds or [(None, "green")]
    return (
        stat.Panel()
        .title(title)
        .description(description)
        .datasource(PROMETHEUS)
        .with_target(prom(expr, legend))
        .unit(unit)
        .thresholds(
            dash.ThresholdsConfig()
            .mode(dashboard.ThresholdsMode.ABSOLUTE)
            .steps([dashboard.Threshold(value=v, color=c) for v, c in steps])
        )
        .color_mode(common_models.BigValueColorMode.BACKGROUND)
        .graph_mode(common_models.BigValueGraphMode.AREA)
        .reduce_options(last_values())
        .height(5)
        .span(6)
    )
