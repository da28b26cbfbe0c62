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
>>> inhibitor.update([red, yellow])  # True: the sources changed
True
>>> inhibitor.muted(yellow, 0.0), inhibitor.muted(red, 0.0)
(<SuppressedReason.INHIBITED: 'inhibited'>, None)
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from alerting.model import SuppressedReason
from alerting.slots import Slot
from yujing.contracts import Alert, AlertKey, Grade

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


Bucket = tuple[tuple[str, ...], bool]  # the equal labels' values and the drill flag


def _bucket(rule: InhibitRule, alert: Alert | None) -> Bucket | None:
    """Where ``alert`` inhibits under ``rule``, or None if it is no source of it (or gone)."""
    if alert is None or alert.key.rule == GROUP_RULE or alert.grade.rank < rule.source_min.rank:
        return None
    return tuple(_label(alert, name) for name in rule.equal), alert.is_drill


class Inhibitor:
    """Mutes alerts by :class:`InhibitRule`. :meth:`update` gives it the active alerts;
    :meth:`change` only the alerts that changed (a batch changes a few of thousands)."""

    def __init__(self, rules: Sequence[InhibitRule]) -> None:
        self.rules = tuple(rules)
        # per rule: bucket -> the sources' keys; and the bucket of each source (to move it)
        self._sources: list[dict[Bucket, set[AlertKey]]] = [{} for _ in self.rules]
        self._where: list[dict[Slot, Bucket]] = [{} for _ in self.rules]

    def update(self, alerts: Iterable[Alert]) -> bool:
        """Take the active alerts; True when the sources changed (who is muted may have)."""
        before = [dict(where) for where in self._where]
        for sources, where in zip(self._sources, self._where, strict=True):
            sources.clear()
            where.clear()
        self.change(((a.key, a.is_drill), a) for a in alerts)
        return self._where != before

    def change(self, alerts: Iterable[tuple[Slot, Alert | None]]) -> bool:
        """Take the new state of some slots (None: no longer active); True when the sources
        changed."""
        changed = False
        for slot, alert in alerts:
            for rule, sources, where in zip(self.rules, self._sources, self._where, strict=True):
                old, new = where.get(slot), _bucket(rule, alert)
                if old == new:
                    continue
                changed = True
                if old is not None:
                    keys = sources[old]
                    keys.discard(slot[0])
                    if not keys:
                        del sources[old]
                    del where[slot]
                if new is not None:
                    sources.setdefault(new, set()).add(slot[0])
                    where[slot] = new
        return changed

    def muted(self, alert: Alert, now: float) -> SuppressedReason | None:
        if alert.key.rule == GROUP_RULE or not alert.grade.is_warning:
            return None
        for rule, sources in zip(self.rules, self._sources, strict=True):
            if not sources or alert.grade.rank > rule.target_max.rank:
                continue
            labels = tuple(_label(alert, name) for name in rule.equal)
            keys = sources.get((labels, alert.is_drill))
            if keys and (len(keys) > 1 or alert.key not in keys):  # a source other than itself
                return SuppressedReason.INHIBITED
        return None
