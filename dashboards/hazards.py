"""One board per hazard: current grades, the measured quantities against their ladder lines, the
detectors' derived values, the grade timeline and the alerts. Rain adds its window totals, the
earthquake board an intensity map and the recent triggers.

Ladder lines: where a rung's threshold is the same for every station (rain windows, gas %LEL,
toxic ppm, ponding depth, intensity) it is drawn from ``configs/ladders`` as a dashed threshold
line; where it depends on the station (a river's warning and guaranteed levels, a tank's limits)
it is read from the ``threshold`` measurement the writer keeps for each station.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from grafana_foundation_sdk.builders import dashboard as dash
from grafana_foundation_sdk.builders import timeseries
from grafana_foundation_sdk.cog import builder as cogbuilder
from grafana_foundation_sdk.models import common as common_models
from grafana_foundation_sdk.models import dashboard

from dashboards._kit import (
    GRADE_COLOURS,
    SUSPECT,
    InfluxQuery,
    dashed_lines,
    suspect_variable,
    tag_variable,
)
from dashboards._panels import alerts_table, grade_stat, grade_timeline, influx_series
from dashboards.overview import stations_map
from yujing.config.ladders import LadderBook
from yujing.contracts import Grade, Hazard, Kind

__all__ = ["HAZARD_BOARDS", "HazardBoard", "hazard_board"]

STATION = '"station" =~ /^$station$/'


@dataclass(frozen=True, slots=True)
class Quantity:
    """A reading field to chart: its InfluxQL aggregate per interval and Grafana unit."""

    field: str
    label: str
    unit: str
    aggregate: str = "mean"


@dataclass(frozen=True, slots=True)
class HazardBoard:
    hazard: Hazard
    slug: str
    title: str
    kinds: tuple[Kind, ...]
    quantities: tuple[Quantity, ...]

    @property
    def kind_filter(self) -> str:
        """InfluxQL condition on the ``kind`` tag."""
        if len(self.kinds) == 1:
            return f"\"kind\" = '{self.kinds[0].value}'"
        return f'"kind" =~ /^({"|".join(k.value for k in self.kinds)})$/'


HAZARD_BOARDS = (
    HazardBoard(Hazard.RAINSTORM, "rain", "rainstorm 暴雨", (Kind.RAIN,),
                (Quantity("rain_mm", "rain per report", "lengthmm", "sum"),)),
    HazardBoard(Hazard.FLOOD, "flood", "river and reservoir levels 河湖水位", (Kind.WATER_LEVEL,),
                (Quantity("level_m", "water level", "lengthm"),)),
    HazardBoard(Hazard.PONDING, "ponding", "urban ponding 城市积水", (Kind.PONDING,),
                (Quantity("depth_cm", "ponding depth", "suffix:cm"),)),
    HazardBoard(Hazard.GAS_LEAK, "gas", "combustible gas 燃气泄漏", (Kind.GAS,),
                (Quantity("ch4_pct_lel", "CH4", "suffix:%LEL"),)),
    HazardBoard(Hazard.TOXIC_GAS, "toxic", "toxic gas 有毒气体", (Kind.CHEM,),
                (Quantity("nh3_ppm", "NH3", "ppm"), Quantity("cl2_ppm", "Cl2", "ppm"),
                 Quantity("h2s_ppm", "H2S", "ppm"))),
    HazardBoard(Hazard.TANK, "tank", "storage tanks 储罐", (Kind.CHEM,),
                (Quantity("pressure_kpa", "tank pressure", "pressurekpa"),
                 Quantity("temp_c", "tank temperature", "celsius"))),
    HazardBoard(Hazard.EARTHQUAKE, "seismic", "earthquake 地震", (Kind.SEISMIC,),
                (Quantity("peak_ms2", "packet peak acceleration", "suffix:m/s²", "max"),)),
    HazardBoard(Hazard.ANOMALY, "anomaly", "anomaly scores 异常检测", (Kind.GAS, Kind.WATER_LEVEL),
                (Quantity("pressure_kpa", "pipeline pressure", "pressurekpa"),
                 Quantity("flow_m3s", "river discharge", "suffix:m³/s"))),
)  # fmt: skip

RAIN_WINDOWS_H = (1, 3, 6, 12)
RAIN_BUCKET_MIN = 5


def uniform_rungs(ladders: LadderBook, hazard: Hazard, quantity: str) -> list[tuple[float, Grade]]:
    """(threshold, grade) of every rung on ``quantity`` in the hazard's rules that is the same for
    all stations; empty when there is none or when any is station-relative."""
    out: list[tuple[float, Grade]] = []
    for (rule_hazard, _), spec in sorted(ladders.rules.items()):
        if rule_hazard is not hazard:
            continue
        for rung in spec.ladder.rungs:
            if spec.ladder.quantity_of(rung) != quantity:
                continue
            if rung.grade in spec.relative or not math.isfinite(rung.enter):
                return []
            out.append((rung.enter, rung.grade))
    return sorted(set(out))


def with_ladder_lines(
    panel: timeseries.Panel, rungs: list[tuple[float, Grade]]
) -> timeseries.Panel:
    steps = [dashboard.Threshold(value=None, color="transparent")]
    steps += [dashboard.Threshold(value=enter, color=GRADE_COLOURS[g]) for enter, g in rungs]
    return panel.thresholds(
        dash.ThresholdsConfig().mode(dashboard.ThresholdsMode.ABSOLUTE).steps(steps)
    ).thresholds_style(dashed_lines())


def station_lines(panel: timeseries.Panel, hazard: Hazard, quantity: str) -> timeseries.Panel:
    """Add the station's own ladder lines from the ``threshold`` measurement, dashed, in the
    grade's colour."""
    query = (
        'SELECT last("enter") FROM "threshold" '
        f"WHERE \"hazard\" = '{hazard.value}' AND \"quantity\" = '{quantity}' AND {STATION} "
        'AND $timeFilter GROUP BY time($__interval), "station", "grade" fill(previous)'
    )
    panel = panel.with_target(InfluxQuery(query, "lines").alias("$tag_station $tag_grade line"))
    for grade in (Grade.BLUE, Grade.YELLOW, Grade.ORANGE, Grade.RED):
        panel = panel.override_by_regexp(
            f".* {grade.value} line$",
            [
                dashboard.DynamicConfigValue(
                    id_val="color", value={"mode": "fixed", "fixedColor": GRADE_COLOURS[grade]}
                ),
                dashboard.DynamicConfigValue(
                    id_val="custom.lineStyle", value={"fill": "dash", "dash": [10, 10]}
                ),
            ],
        )
    return panel


def reading_panel(board: HazardBoard, quantity: Quantity, ladders: LadderBook) -> timeseries.Panel:
    query = (
        f'SELECT {quantity.aggregate}("{quantity.field}") FROM "reading" '
        f"WHERE {board.kind_filter} AND {STATION} AND {SUSPECT} AND $timeFilter "
        'GROUP BY time($__interval), "station" fill(none)'
    )
    panel = influx_series(
        f"{quantity.label} ({quantity.field})",
        [InfluxQuery(query).alias("$tag_station")],
        unit=quantity.unit,
    )
    rungs = uniform_rungs(ladders, board.hazard, quantity.field)
    if rungs:
        return with_ladder_lines(panel, rungs)
    if any(
        spec.ladder.quantity_of(r) == quantity.field
        for (h, _), spec in ladders.rules.items()
        if h is board.hazard
        for r in spec.ladder.rungs
    ):
        return station_lines(panel, board.hazard, quantity.field)
    return panel


def rain_window_panel(hours: int, ladders: LadderBook) -> timeseries.Panel:
    """Sliding ``hours`` h totals from the gauges' reports (a moving sum over 5 min buckets)."""
    n = hours * 60 // RAIN_BUCKET_MIN
    quantity = f"rain_{hours}h_mm"
    query = (
        f'SELECT moving_average(sum("rain_mm"), {n}) * {n} FROM "reading" '
        f"WHERE \"kind\" = 'rain' AND {STATION} AND {SUSPECT} AND $timeFilter "
        f'GROUP BY time({RAIN_BUCKET_MIN}m), "station" fill(0)'
    )
    panel = influx_series(
        f"{hours} h rain total ({quantity})",
        [InfluxQuery(query).alias("$tag_station")],
        unit="lengthmm",
        description=f"Rain over the last {hours} h at each point, from the gauges' reports; "
        "dashed lines: the ladder's rungs on this window (configs/ladders/rain.yaml).",
    ).span(6)
    if 2 * hours > 6:  # a moving sum needs a window of history before its first point
        panel = panel.time_from(f"{2 * hours}h")
    return with_ladder_lines(panel, uniform_rungs(ladders, Hazard.RAINSTORM, quantity))


def derived_panel(board: HazardBoard) -> timeseries.Panel:
    query = (
        'SELECT "value", "threshold" FROM "derived" '
        f"WHERE \"hazard\" = '{board.hazard.value}' AND {STATION} AND $timeFilter "
        'GROUP BY "station", "rule", "quantity"'
    )
    return (
        influx_series(
            "Detector values at grade changes 检测值",
            [InfluxQuery(query).alias("$tag_station $tag_rule ($tag_quantity) $col")],
            description="What the detector measured (rain window total, rate of rise, "
            "intensity, …) "
            "and the rung it crossed, each time a rule's grade changed.",
        )
        .draw_style(common_models.GraphDrawStyle.POINTS)
        .point_size(7)
    )


def seismic_panels() -> list[cogbuilder.Builder[dashboard.Panel]]:
    intensity_map = stations_map(
        "Intensity by station 烈度分布",
        'SELECT max("value") AS "intensity", last("lat") AS "lat", last("lon") AS "lon", '
        'max("pga_ms2") AS "pga_ms2" FROM "derived" WHERE "hazard" = \'earthquake\' '
        'AND "rule" = \'intensity\' AND $timeFilter GROUP BY "station"',
        "intensity",
        description="Highest intensity (GB/T 17742, from PGA) graded at each station in the "
        "time range.",
    )
    steps = [dashboard.Threshold(value=None, color=GRADE_COLOURS[Grade.NONE])]
    steps += [
        dashboard.Threshold(value=float(v), color=GRADE_COLOURS[g])
        for v, g in ((4, Grade.BLUE), (5, Grade.YELLOW), (6, Grade.ORANGE), (7, Grade.RED))
    ]
    intensity_map = intensity_map.thresholds(
        dash.ThresholdsConfig().mode(dashboard.ThresholdsMode.ABSOLUTE).steps(steps)
    ).color_scheme(dash.FieldColor().mode(dashboard.FieldColorModeId.THRESHOLDS))
    triggers = (
        influx_series(
            "STA/LTA triggers 触发",
            [
                InfluxQuery(
                    'SELECT "value" AS "sta_lta" FROM "derived" WHERE "hazard" = \'earthquake\' '
                    'AND "rule" = \'trigger\' AND "station" =~ /^$station$/ AND $timeFilter '
                    'GROUP BY "station"'
                ).alias("$tag_station")
            ],
        )
        .draw_style(common_models.GraphDrawStyle.POINTS)
        .point_size(8)
        .span(10)
        .height(16)
    )
    return [intensity_map, triggers]


def hazard_board(board: HazardBoard, ladders: LadderBook) -> dash.Dashboard:
    h = board.hazard.value
    out = (
        dash.Dashboard(f"yujing · {board.title}")
        .uid(f"yujing-{board.slug}")
        .description(f"Hazard {h}: readings against ladder lines, derived values, alerts")
        .with_variable(
            tag_variable(
                "station",
                "Station 站点",
                f'SHOW TAG VALUES FROM "reading" WITH KEY = "station" WHERE {board.kind_filter}',
            )
        )
        .with_variable(suspect_variable())
        .with_panel(
            grade_stat(
                "Grade now by station and rule 当前等级",
                'SELECT last("grade_rank") FROM "derived" '
                f"WHERE \"hazard\" = '{h}' AND {STATION} AND $timeFilter "
                'GROUP BY "station", "rule"',
                "$tag_station $tag_rule",
                description="Each rule's latest grade as the detector published it.",
            )
        )
    )
    if board.hazard is Hazard.EARTHQUAKE:
        for panel in seismic_panels():
            out = out.with_panel(panel)
    for quantity in board.quantities:
        out = out.with_panel(reading_panel(board, quantity, ladders))
    if board.hazard is Hazard.RAINSTORM:
        for hours in RAIN_WINDOWS_H:
            out = out.with_panel(rain_window_panel(hours, ladders))
    return (
        out.with_panel(derived_panel(board))
        .with_panel(
            grade_timeline(
                "Alert grade over time 预警等级变化",
                'SELECT last("grade_rank") * last("active") FROM "alert" '
                f"WHERE \"hazard\" = '{h}' AND $timeFilter "
                'GROUP BY time($__interval), "area", "rule" fill(previous)',
                "$tag_area $tag_rule",
            )
        )
        .with_panel(alerts_table("Alerts 预警", f"\"hazard\" = '{h}'"))
    )
