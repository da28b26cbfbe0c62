"""Building blocks shared by every board: the two datasources, an InfluxQL query and annotation
for grafana-foundation-sdk (which ships no InfluxDB query type), grade colours, ladder lines.

Everything here produces SDK builders; :func:`dashboards.render` turns a board into JSON.
"""

from __future__ import annotations

import typing

from grafana_foundation_sdk.builders import common as common_builders
from grafana_foundation_sdk.builders import dashboard as dash
from grafana_foundation_sdk.builders import prometheus
from grafana_foundation_sdk.cog import builder as cogbuilder
from grafana_foundation_sdk.cog import variants as cogvariants
from grafana_foundation_sdk.models import common, dashboard

from detectors.ladder import Ladder
from yujing.contracts import Grade

__all__ = [
    "DATABASE",
    "GRADE_COLOURS",
    "INFLUX",
    "PROMETHEUS",
    "InfluxAnnotation",
    "InfluxQuery",
    "grade_mappings",
    "grade_thresholds",
    "ladder_thresholds",
    "prom",
    "suspect_variable",
    "tag_variable",
]

#: Datasource references; the provisioning file (dashboards/provisioning) defines the same uids.
INFLUX = dashboard.DataSourceRef(type_val="influxdb", uid="yujing-influxdb")
PROMETHEUS = dashboard.DataSourceRef(type_val="prometheus", uid="yujing-prometheus")
DATABASE = "yujing"  # InfluxDB 1.x database, or the 2.x/3.x bucket mapped for InfluxQL

#: Colours of the grades as duty staff know them; ``unknown`` is grey, never green.
GRADE_COLOURS: dict[Grade, str] = {
    Grade.UNKNOWN: "#8e8e8e",
    Grade.NONE: "#56a64b",
    Grade.BLUE: "#3274d9",
    Grade.YELLOW: "#f2cc0c",
    Grade.ORANGE: "#ff780a",
    Grade.RED: "#e02f44",
}
_GRADE_NAMES = {
    Grade.UNKNOWN: "unknown 未知",
    Grade.NONE: "none 正常",
    Grade.BLUE: "blue 蓝色",
    Grade.YELLOW: "yellow 黄色",
    Grade.ORANGE: "orange 橙色",
    Grade.RED: "red 红色",
}


class InfluxQL(cogvariants.Dataquery):
    """A raw InfluxQL target, as Grafana's InfluxDB datasource stores it in InfluxQL mode."""

    def __init__(
        self,
        query: str,
        ref_id: str,
        result_format: str = "time_series",
        alias: str | None = None,
    ) -> None:
        self.query = query
        self.ref_id = ref_id
        self.result_format = result_format
        self.alias = alias

    def to_json(self) -> dict[str, object]:
        payload: dict[str, object] = {
            "refId": self.ref_id,
            "datasource": INFLUX,
            "query": self.query,
            "rawQuery": True,
            "resultFormat": self.result_format,
        }
        if self.alias is not None:
            payload["alias"] = self.alias
        return payload


class InfluxQuery(cogbuilder.Builder[cogvariants.Dataquery]):
    """Builder of :class:`InfluxQL` targets: ``InfluxQuery("SELECT …", "A").table()``."""

    def __init__(self, query: str, ref_id: str = "A") -> None:
        self._internal = InfluxQL(query, ref_id)

    def build(self) -> InfluxQL:
        return self._internal

    def table(self) -> typing.Self:
        self._internal.result_format = "table"
        return self

    def alias(self, alias: str) -> typing.Self:
        self._internal.alias = alias
        return self


class _InfluxAnnotationQuery(dashboard.AnnotationQuery):
    """An annotation whose ``target`` is an InfluxQL query (Grafana's current InfluxDB format:
    the query with the columns that give the text and the tags)."""

    def __init__(
        self, name: str, query: str, text_column: str, tags_column: str, icon_color: str
    ) -> None:
        super().__init__(name=name, datasource=INFLUX, enable=True, icon_color=icon_color)
        self.query = query
        self.text_column = text_column
        self.tags_column = tags_column

    def to_json(self) -> dict[str, object]:
        payload = super().to_json()
        payload["target"] = {
            "refId": "Anno",
            "query": self.query,
            "rawQuery": True,
            "resultFormat": "table",
            "fromAnnotations": True,
            "textColumn": self.text_column,
            "tagsColumn": self.tags_column,
        }
        return payload


class InfluxAnnotation(cogbuilder.Builder[dashboard.AnnotationQuery]):
    def __init__(self, name: str, query: str, *, text: str, tags: str, colour: str) -> None:
        self._internal = _InfluxAnnotationQuery(name, query, text, tags, colour)

    def build(self) -> dashboard.AnnotationQuery:
        return self._internal


def prom(expr: str, legend: str, ref_id: str = "A") -> prometheus.Dataquery:
    """A PromQL target on the yujing Prometheus datasource."""
    return (
        prometheus.Dataquery()
        .expr(expr)
        .legend_format(legend)
        .ref_id(ref_id)
        .datasource(PROMETHEUS)
    )


def grade_mappings() -> list[dashboard.ValueMapping]:
    """``grade_rank`` numbers and grade names → the grade's name and colour."""
    options: dict[str, dashboard.ValueMappingResult] = {}
    for index, (grade, colour) in enumerate(GRADE_COLOURS.items()):
        result = dashboard.ValueMappingResult(text=_GRADE_NAMES[grade], color=colour, index=index)
        options[str(grade.rank)] = result
        options[grade.value] = result
    return [dashboard.ValueMap(options=options)]


def grade_thresholds() -> dash.ThresholdsConfig:
    """Colour a ``grade_rank`` (-1 … 4) by grade."""
    steps = [dashboard.Threshold(value=None, color=GRADE_COLOURS[Grade.UNKNOWN])]
    steps += [
        dashboard.Threshold(value=float(g.rank), color=GRADE_COLOURS[g])
        for g in (Grade.NONE, Grade.BLUE, Grade.YELLOW, Grade.ORANGE, Grade.RED)
    ]
    return dash.ThresholdsConfig().mode(dashboard.ThresholdsMode.ABSOLUTE).steps(steps)


def ladder_thresholds(ladder: Ladder, quantity: str) -> dash.ThresholdsConfig:
    """The rungs of ``ladder`` on ``quantity`` as threshold steps (drawn as dashed lines)."""
    steps = [dashboard.Threshold(value=None, color="transparent")]
    for rung in ladder.rungs:
        if ladder.quantity_of(rung) == quantity:
            steps.append(dashboard.Threshold(value=rung.enter, color=GRADE_COLOURS[rung.grade]))
    return dash.ThresholdsConfig().mode(dashboard.ThresholdsMode.ABSOLUTE).steps(steps)


def dashed_lines() -> common_builders.GraphThresholdsStyleConfig:
    return common_builders.GraphThresholdsStyleConfig().mode(common.GraphThresholdsStyleMode.DASHED)


def tag_variable(name: str, label: str, query: str) -> dash.QueryVariable:
    """A multi-value InfluxDB tag variable with "All" meaning any value (regex ``.*``)."""
    return (
        dash.QueryVariable(name)
        .label(label)
        .datasource(INFLUX)
        .query(query)
        .refresh(dashboard.VariableRefresh.ON_TIME_RANGE_CHANGED)
        .sort(dashboard.VariableSort.ALPHABETICAL_ASC)
        .multi(True)
        .include_all(True)
        .all_value(".*")
        .current(dashboard.VariableOption(selected=True, text="All", value="$__all"))
    )


#: The InfluxQL condition of the :func:`suspect_variable` on ``reading``.
SUSPECT = '"suspect" =~ /$suspect/'


def suspect_variable() -> dash.CustomVariable:
    """Show or hide readings the quality gate distrusts (their ``suspect`` tag, docs/storage.md):
    ``show`` matches any tag value, ``hide`` only readings without the tag."""
    show = dashboard.VariableOption(selected=True, text="show", value=".*")
    hide = dashboard.VariableOption(selected=False, text="hide", value="^$")
    return (
        dash.CustomVariable("suspect")
        .label("Suspect readings 可疑读数")
        .values("show : .*,hide : ^$")
        .options([show, hide])
        .current(show)
        .allow_custom_value(False)
    )
