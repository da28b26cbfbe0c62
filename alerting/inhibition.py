"""Inhibition: a higher grade makes a lower one of the same place and hazard redundant.

A rule says: while an alert at ``source_min`` or above is active, alerts at ``target_max`` or
below that share the labels in ``equal`` with it are muted (Alertmanager's source matchers,
target matchers and equal labels, with grades for matchers). The default rule is the one the
duty room asked for: a red mutes the yellow (and blue) of the same area and hazard, e.g. a red
``flood/level`` at S003 mutes a yellow ``flood/rate_of_rise`` at S003. With
``equal: [district, hazard]`` a red anywhere in a district mutes the yellows of its hazard there.

Labels: ``area`` (the alert key's area), ``district``, ``hazard``. An alert never inhibits itself,
drills only inhibit drills, and district groups (rule ``group``) neither inhibit nor are
inhibited: they are made from the alerts that are left.

>>> from yujing.contracts import Alert, AlertKey, AlertState, Grade, Hazard
>>> def alert(rule, grade):
...     return Alert(AlertKey("S003", Hazard.FLOOD, rule), "district-a", grade,
...                  AlertState.FIRING, 1, 0.0, 0.0)
>>> red, yellow = alert("level", Grade.RED), alert("rate_of_rise", Grade.YELLOW)
>>> inhibitor = Inhibitor([InhibitRule()])
>>> inhibitor.update([red, yellow])
>>> inhibitor.muted(yellow, 0.0), inhibitor.muted(red, 0.0)
(<SuppressedReason.INHIBITED: 'inhibited'>, None)
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from alerting.model import SuppressedReason
from yujing.contracts import Alert, Grade

__all__ = ["GROUP_RULE", "LABELS", "InhibitRule", "Inhibitor"]

GROUP_RULE = "group"
LABELS = ("area", "district", "hazard")


@dataclass(frozen=True, slots=True)
class InhibitRule:
    source_min: Grade = Grade.RED
    target_max: Grade = Grade.YELLOW
    equal: tuple[str, ...] = ("area", "hazard")

    def __post_init__(self) -> None:
        unknown = [label for label in self.equal if label not in LABELS]
        if unknown:
            raise ValueError(f"inhibit rule: equal labels {unknown} not among {list(LABELS)}")
        if not self.source_min.is_warning or not self.target_max.is_warning:
            raise ValueError("inhibit rule: source_min and target_max must be warning grades")
        if self.target_max.rank >= self.source_min.rank:
            raise ValueError(
                f"inhibit rule: target_max {self.target_max.value} must be below "
                f"source_min {self.source_min.value}"
            )


def _label(alert: Alert, name: str) -> str:
    if name == "area":
        return alert.key.area
    if name == "district":
        return alert.district
    return alert.key.hazard.value


class Inhibitor:
    """Mutes alerts by :class:`InhibitRule`. :meth:`update` gives it the active alerts."""

    def __init__(self, rules: Sequence[InhibitRule]) -> None:
        self.rules = tuple(rules)
        # per rule: equal-label values + drill flag -> the sources' keys
        self._sources: list[dict[tuple[tuple[str, ...], bool], list[Alert]]] = [
            {} for _ in self.rules
        ]

    def update(self, alerts: Iterable[Alert]) -> None:
        active = [a for a in alerts if a.key.rule != GROUP_RULE]
        for rule, index in zip(self.rules, self._sources, strict=True):
            index.clear()
            for alert in active:
                if alert.grade.rank >= rule.source_min.rank:
                    labels = tuple(_label(alert, name) for name in rule.equal)
                    index.setdefault((labels, alert.is_drill), []).append(alert)

    def muted(self, alert: Alert, now: float) -> SuppressedReason | None:
        if alert.key.rule == GROUP_RULE or not alert.grade.is_warning:
            return None
        for rule, index in zip(self.rules, self._sources, strict=True):
            if alert.grade.rank > rule.target_max.rank:
                continue
            labels = tuple(_label(alert, name) for name in rule.equal)
            if any(s.key != alert.key for s in index.get((labels, alert.is_drill), ())):
                return SuppressedReason.INHIBITED
        return None
