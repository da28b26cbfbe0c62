"""Which readings the quality gate distrusts, so the boards can show or hide them.

The gate's verdict on each reading stays inside the station's detectors (DESIGN §4: the writer
never looks inside a detector); what the pipeline hands out is the station-health findings:
``sensor/quality`` (blue while a quantity is persistently suspect, with ``evidence["suspect"]`` =
quantity → reason; ``none`` when clear) and ``sensor/drift`` (per quantity, against the
neighbours). :class:`SuspectMarks` follows those findings, and the writer tags every reading of
a marked quantity with ``suspect=<reasons>`` until the clearing finding comes. Single spikes the
gate drops from one reading are not persistent and are not marked.

>>> from yujing.contracts import Finding, Grade, Hazard, Kind, Reading
>>> marks = SuspectMarks()
>>> def quality(grade, suspect):
...     return Finding("G1", "d", Hazard.SENSOR, "quality", grade, 60.0, station="G1",
...                    evidence={"suspect": suspect})
>>> marks.observe([quality(Grade.BLUE, {"ch4_pct_lel": "stuck"})])
>>> marks.of(Reading("G1", Kind.GAS, "d", 61.0, 2, {"ch4_pct_lel": 7.0, "temp_c": 20.0}))
'stuck'
>>> marks.observe([quality(Grade.NONE, {})])
>>> marks.of(Reading("G1", Kind.GAS, "d", 62.0, 3, {"ch4_pct_lel": 7.1})) is None
True
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from detectors.drift import DRIFT_RULE
from detectors.sensor import QUALITY_RULE
from yujing.contracts import Finding, Grade, Hazard, Reading

__all__ = ["SuspectMarks"]

DRIFT = "drift"


class SuspectMarks:
    """Persistently suspect quantities per station, from sensor findings. Used on the runtime's
    thread only (the writer resolves the tag in ``submit``)."""

    def __init__(self) -> None:
        self._marks: dict[str, dict[str, dict[str, str]]] = {}  # station → rule → q → reason

    def __bool__(self) -> bool:
        return bool(self._marks)

    def observe(self, findings: Iterable[Finding]) -> None:
        for finding in findings:
            if finding.hazard is not Hazard.SENSOR or finding.grade is Grade.UNKNOWN:
                continue
            station = finding.station or finding.area
            if finding.rule == QUALITY_RULE:
                suspect = finding.evidence.get("suspect")
                found = (
                    {str(q): str(r) for q, r in suspect.items()}
                    if finding.grade.is_warning and isinstance(suspect, Mapping)
                    else {}
                )
                self._set(station, QUALITY_RULE, found)
            elif finding.rule == DRIFT_RULE and finding.quantity:
                rules = self._marks.get(station, {})
                drifting = dict(rules.get(DRIFT_RULE, {}))
                if finding.grade.is_warning:
                    drifting[finding.quantity] = DRIFT
                else:
                    drifting.pop(finding.quantity, None)
                self._set(station, DRIFT_RULE, drifting)

    def of(self, reading: Reading) -> str | None:
        """The ``suspect`` tag of ``reading``: its marked quantities' reasons, sorted and joined
        with ``+`` (``drift+stuck``); None when none of its values is marked."""
        rules = self._marks.get(reading.station)
        if not rules:
            return None
        reasons = {
            reason
            for marked in rules.values()
            for quantity, reason in marked.items()
            if quantity in reading.values
        }
        return "+".join(sorted(reasons)) if reasons else None

    def _set(self, station: str, rule: str, marked: dict[str, str]) -> None:
        rules = self._marks.setdefault(station, {})
        if marked:
            rules[rule] = marked
        else:
            rules.pop(rule, None)
        if not rules:
            del self._marks[station]
