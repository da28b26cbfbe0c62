"""Console channel: one aligned line per notice, for the officer watching the live demo.

Layout (event time, grade, transition, where, what was measured, version)::

    08:41:07 RED     FIRED        district-a/earthquake/intensity   S012  intensity 7.3 ≥ 7.0  (v1)
    08:52:30 CLEAR   RESOLVED     district-a/flood/level            S003  level_m 4.1 < 4.5  (v3, …

and every line after the first of an alert ends with the grade it left: ``(v3, was red)``.

The time is the notice's event time (when the sensor saw it), not when the line was printed, so
a replay prints the same lines as the live run. Grades are coloured with ANSI codes only when the
stream is a terminal (or ``color=True``); a file or a pipe gets plain text. Drill notices carry
a ``[DRILL]`` tag so nobody mistakes an exercise for the real thing.
"""

from __future__ import annotations

import sys
from datetime import datetime, tzinfo
from typing import TextIO

from alerting.model import Delivery
from yujing.contracts import DeliveryError, Grade, Notice, NoticeReason

__all__ = ["ConsoleNotifier", "format_notice"]

_RESET = "\x1b[0m"
_COLOURS = {
    Grade.BLUE: "\x1b[1;34m",
    Grade.YELLOW: "\x1b[1;33m",
    Grade.ORANGE: "\x1b[1;38;5;208m",  # 256-colour orange; every current terminal has it
    Grade.RED: "\x1b[1;97;41m",  # white on red: the line nobody may miss
    Grade.NONE: "\x1b[32m",
    Grade.UNKNOWN: "\x1b[35m",
}
_LABELS = {grade: grade.value.upper() for grade in Grade} | {Grade.NONE: "CLEAR"}
_GRADE_WIDTH = max(len(label) for label in _LABELS.values())
_REASON_WIDTH = max(len(reason.value) for reason in NoticeReason)
_KEY_WIDTH = 32


def _number(x: float) -> str:
    """Short, readable numbers: 7.0 stays "7.0" (a threshold), 3.14159 becomes "3.142"."""
    x = float(x)  # ints arrive too (a YAML threshold of 50)
    if x.is_integer() and abs(x) < 1e6:
        return f"{x:.1f}"
    return f"{x:.4g}"


def _measure(notice: Notice) -> str:
    if notice.value is None:
        return notice.quantity
    text = f"{notice.quantity} {_number(notice.value)}".strip()
    if notice.threshold is not None:
        relation = "≥" if notice.value >= notice.threshold else "<"
        text += f" {relation} {_number(notice.threshold)}"
    return text


def _where(notice: Notice) -> str:
    area = notice.key.area
    if notice.stations and notice.stations != (area,):
        return f"{area} [{','.join(notice.stations)}]"
    return area


def format_notice(notice: Notice, *, color: bool = False, tz: tzinfo | None = None) -> str:
    """One line for ``notice`` (no newline). ``tz`` None means the machine's local time."""
    clock = datetime.fromtimestamp(notice.ts, tz).strftime("%H:%M:%S")
    label = _LABELS[notice.grade]
    pad = " " * (_GRADE_WIDTH - len(label))
    grade = f"{_COLOURS[notice.grade]}{label}{_RESET}{pad}" if color else label + pad
    what = f"{notice.district}/{notice.hazard.value}/{notice.key.rule}"
    if notice.is_drill:
        what = f"[DRILL] {what}"
    version = f"v{notice.version}"
    if notice.previous_grade is not Grade.NONE:
        version += f", was {notice.previous_grade.value}"
    parts = [
        clock,
        grade,
        f"{notice.reason.value.upper():<{_REASON_WIDTH}}",
        f"{what:<{_KEY_WIDTH}} ",
        f"{_where(notice)} ",
        f"{_measure(notice)} " if notice.value is not None or notice.quantity else "",
        f"({version})",
    ]
    line = " ".join(p for p in parts if p)
    if notice.message:
        line += f"  {notice.message}"
    return line


class ConsoleNotifier:
    """Writes :func:`format_notice` lines to ``stream`` (stdout by default). Never public."""

    is_public = False

    def __init__(
        self,
        stream: TextIO | None = None,
        color: bool | None = None,
        *,
        name: str = "console",
        tz: tzinfo | None = None,
    ) -> None:
        self.name = name
        self._stream = stream if stream is not None else sys.stdout
        self._color = _is_terminal(self._stream) if color is None else color
        self._tz = tz

    async def send(self, delivery: Delivery) -> None:
        line = format_notice(delivery.notice, color=self._color, tz=self._tz)
        if delivery.officer:
            line += f"  → {delivery.officer_name or delivery.officer}"
        try:
            self._stream.write(line + "\n")
            self._stream.flush()
        except (OSError, ValueError) as exc:  # closed stream or broken pipe: retrying won't help
            raise DeliveryError(f"console {self.name}: {exc}", retryable=False) from exc

    async def close(self) -> None:
        self._stream.flush()


def _is_terminal(stream: TextIO) -> bool:
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty()) if callable(isatty) else False
    except ValueError:  # a closed stream
        return False
