"""City overview: every station on a map coloured by its current grade, active alerts by grade
and hazard, the latest warnings, and which stations are not reporting fully."""

from __future__ import annotations

from grafana_foundation_sdk.builders import common, geomap
from grafana_foundation_sdk.builders import dashboard as dash
from grafana_foundation_sdk.models import common as common_models
from grafana_foundation_sdk.models import dashboard

from dashboards._kit import INFLUX, InfluxQuery, grade_mappings, grade_thresholds, tag_variable
from dashboards._panels import (
    alerts_by_grade,
    alerts_by_hazard,
    alerts_table,
    influx_series,
    influx_table,
)

__all__ = ["overview", "stations_map"]

DISTRICT = '"district" =~ /^$district$/'

STATIONS = (
    'SELECT last("lat") AS "lat", last("lon") AS "lon", last("grade_rank") AS "grade_rank", '
    'last("active_alerts") AS "active_alerts", last("completeness") AS "completeness", '
    'last("name") AS "name" FROM "station" WHERE {where} AND $timeFilter '
    'GROUP BY "station", "kind", "district"'
)


def stations_map(
    title: str, query: str, colour_field: str, *, description: str = ""
) -> geomap.Panel:
    """A geomap of one marker per row of ``query`` (columns ``lat``, ``lon``), coloured by
    ``colour_field`` through the panel's thresholds."""
    markers = (
        common.MapLayerOptions()
        .type("markers")
        .name("stations")
        .location(
            common.FrameGeometrySource()
            .mode(common_models.FrameGeometrySourceMode.COORDS)
            .latitude("lat")
            .longitude("lon")
        )
        .config(
            {
                "showLegend": True,
                "style": {
                    "color": {"field": colour_field, "fixed": "dark-green"},
                    "opacity": 0.85,
                    "size": {"fixed": 7, "min": 5, "max": 12},
                    "symbol": {"fixed": "img/icons/marker/circle.svg", "mode": "fixed"},
                },
            }
        )
        .tooltip(True)
    )
    return (
        geomap.Panel()
        .title(title)
        .description(description)
        .datasource(INFLUX)
        .with_target(InfluxQuery(query).table())
        .view(geomap.MapViewConfig().id("fit").zoom(11))
        .controls(geomap.ControlsOptions().show_zoom(True).mouse_wheel_zoom(True))
        .layers([markers])
        .height(16)
        .span(14)
    )


def overview() -> dash.Dashboard:
    where = DISTRICT
    station_map = (
        stations_map(
            "Stations by current grade 站点当前等级",
            STATIONS.format(where=where),
            "grade_rank",
            description="Colour: the highest grade among the station's active alerts (grey: "
            "unknown, the station cannot be seen). Position and grade come from the `station` "
            "measurement, refreshed on every change and every storage.station_every_s.",
        )
        .mappings(grade_mappings())
        .thresholds(grade_thresholds())
        .color_scheme(dash.FieldColor().mode(dashboard.FieldColorModeId.THRESHOLDS))
    )
    latest = alerts_table("Latest warnings 最新预警", f"{where} AND \"drill\" = 'false'", 50)
    over_time = influx_series(
        "Warnings issued 预警发布 (fired and upgraded)",
        [
            InfluxQuery(
                'SELECT count("version") FROM "alert" WHERE "reason" =~ /^(fired|upgraded)$/ '
                f'AND {where} AND $timeFilter GROUP BY time($__interval), "grade" fill(0)'
            ).alias("$tag_grade")
        ],
    )
    completeness = influx_table(
        "Data completeness by station 数据完整率",
        'SELECT last("completeness") AS "completeness" FROM "station" '
        f'WHERE {where} AND $timeFilter GROUP BY "station", "kind"',
        description="Readings received ÷ readings expected (station interval) over the last "
        "storage.station_every_s.",
    ).unit("percentunit")

    def at(x: int, y: int, w: int, h: int) -> dashboard.GridPos:
        return dashboard.GridPos(h=h, w=w, x=x, y=y)

    return (
        dash.Dashboard("yujing · city overview 城市总览")
        .uid("yujing-overview")
        .description("Every station coloured by its current grade, active alerts, latest warnings")
        .with_variable(
            tag_variable(
                "district", "District 区", 'SHOW TAG VALUES FROM "station" WITH KEY = "district"'
            )
        )
        .with_panel(station_map.grid_pos(at(0, 0, 14, 16)))
        .with_panel(
            alerts_by_grade("Active alerts by grade 按等级", where).grid_pos(at(14, 0, 10, 5))
        )
        .with_panel(
            alerts_by_hazard("Active alerts by hazard 按灾种", where).grid_pos(at(14, 5, 10, 11))
        )
        .with_panel(latest.grid_pos(at(0, 16, 24, 10)))
        .with_panel(over_time.grid_pos(at(0, 26, 12, 9)))
        .with_panel(completeness.grid_pos(at(12, 26, 12, 9)))
    )
