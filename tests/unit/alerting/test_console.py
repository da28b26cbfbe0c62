"""ConsoleNotifier: the line a duty officer reads, plain and coloured (on a real pty)."""

from __future__ import annotations

import asyncio
import io
import os
import pty
from datetime import UTC, datetime

import pytest

from alerting import ConsoleNotifier
from alerting.model import Delivery
from alerting.notifiers.console import format_notice
from yujing.contracts import (
    AlertKey,
    AlertState,
    DeliveryError,
    Grade,
    Hazard,
    Notice,
    NoticeReason,
)

T0 = datetime(2026, 7, 21, 8, 41, 7, tzinfo=UTC).timestamp()
QUAKE = AlertKey("S012", Hazard.EARTHQUAKE, "intensity")


def notice(
    reason: NoticeReason = NoticeReason.FIRED,
    grade: Grade = Grade.RED,
    previous: Grade = Grade.NONE,
    *,
    version: int = 1,
    value: float | None = 7.3,
    threshold: float | None = 7.0,
    key: AlertKey = QUAKE,
    stations: tuple[str, ...] = ("S012",),
    is_drill: bool = False,
    message: str = "",
) -> Notice:
    state = AlertState.RESOLVED if reason is NoticeReason.RESOLVED else AlertState.FIRING
    return Notice(
        key=key,
        version=version,
        reason=reason,
        grade=grade,
        previous_grade=previous,
        state=state,
        district="district-a",
        ts=T0,
        value=value,
        threshold=threshold,
        quantity="intensity",
        message=message,
        is_drill=is_drill,
        stations=stations,
    )


def line(n: Notice, *, color: bool = False) -> str:
    return format_notice(n, color=color, tz=UTC)


def test_fired_line() -> None:
    assert line(notice()) == (
        "08:41:07 RED     FIRED        district-a/earthquake/intensity   S012  "
        "intensity 7.3 ≥ 7.0  (v1)"
    )


def test_downgrade_and_resolve_say_where_they_came_from() -> None:
    down = notice(
        NoticeReason.DOWNGRADED, Grade.ORANGE, Grade.RED, version=2, value=6.4, threshold=6.0
    )
    assert line(down).endswith(
        "ORANGE  DOWNGRADED   district-a/earthquake/intensity   S012  "
        "intensity 6.4 ≥ 6.0  (v2, was red)"
    )
    clear = notice(NoticeReason.RESOLVED, Grade.NONE, Grade.ORANGE, version=3, value=3.12)
    assert line(clear) == (
        "08:41:07 CLEAR   RESOLVED     district-a/earthquake/intensity   S012  "
        "intensity 3.12 < 7.0  (v3, was orange)"
    )


def test_columns_line_up_across_grades_and_reasons() -> None:
    a = line(notice())
    b = line(notice(NoticeReason.UPGRADED, Grade.YELLOW, Grade.BLUE, version=12))
    assert a.index("district-a") == b.index("district-a")
    assert a.index("S012") == b.index("S012")


def test_area_alert_names_its_stations_drill_is_tagged_and_message_follows() -> None:
    n = notice(
        key=AlertKey("east", Hazard.RAINSTORM, "rain_3h"),
        stations=("R007",),
        grade=Grade.YELLOW,
        value=52.36,
        threshold=50,
        is_drill=True,
        message="3 h total above 50 mm",
    )
    text = line(n)
    assert "YELLOW  FIRED        [DRILL] district-a/rainstorm/rain_3h" in text
    assert "east [R007]" in text
    assert text.endswith("intensity 52.36 ≥ 50.0  (v1)  3 h total above 50 mm")


def test_notice_without_a_measurement() -> None:
    text = line(notice(value=None, threshold=None))
    assert text.endswith("S012  intensity  (v1)")


def test_colour_only_on_request_and_then_only_around_the_grade() -> None:
    plain = line(notice())
    coloured = line(notice(), color=True)
    assert "\x1b[" not in plain
    assert coloured.startswith("08:41:07 \x1b[1;97;41mRED\x1b[0m     FIRED")
    assert coloured.replace("\x1b[1;97;41m", "").replace("\x1b[0m", "") == plain


def test_send_writes_one_plain_line_to_a_non_terminal() -> None:
    stream = io.StringIO()
    console = ConsoleNotifier(stream, tz=UTC)
    assert (console.name, console.is_public) == ("console", False)
    asyncio.run(console.send(Delivery(notice(), "console")))
    asyncio.run(
        console.send(
            Delivery(notice(NoticeReason.UPGRADED, Grade.RED, Grade.ORANGE, version=2), "console")
        )
    )
    lines = stream.getvalue().splitlines()
    assert lines[0] == line(notice())
    assert len(lines) == 2 and "\x1b[" not in stream.getvalue()


def test_send_colours_on_a_real_terminal() -> None:
    main_fd, terminal_fd = pty.openpty()
    try:
        with open(terminal_fd, "w", encoding="utf-8", closefd=True) as terminal:
            asyncio.run(ConsoleNotifier(terminal, tz=UTC).send(Delivery(notice(), "console")))
            shown = os.read(main_fd, 4096).decode("utf-8")
    finally:
        os.close(main_fd)
    assert "\x1b[1;97;41mRED\x1b[0m" in shown


def test_a_closed_stream_is_a_non_retryable_failure() -> None:
    stream = io.StringIO()
    stream.close()
    with pytest.raises(DeliveryError) as caught:
        asyncio.run(ConsoleNotifier(stream, color=False).send(Delivery(notice(), "console")))
    assert caught.value.retryable is False
