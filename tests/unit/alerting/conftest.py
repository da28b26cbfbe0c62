"""Shared builders for the alerting unit tests: a small roster, channels and findings."""

from __future__ import annotations

from alerting.acklinks import AckLinks
from alerting.book import BookPolicy
from alerting.grouping import GroupPolicy
from alerting.model import Delivery
from alerting.pipeline import AlertPipeline, PipelineConfig
from alerting.routing import Audience, ChannelSpec, Officer, Roster, Route, Shift
from yujing.contracts import WARNING_GRADES, Finding, Grade, Hazard, NoticeReason

DAY = 1_780_000_000.0 - (1_780_000_000.0 + 8 * 3600) % 86400 + 10 * 3600  # 10:00 at +08:00

OFFICERS = {
    "li": Officer("li", "李伟", {"phone": "+8613800000001", "email": "li@example.org"}),
    "wang": Officer("wang", "王芳", {"phone": "+8613800000002"}),
    "chen": Officer("chen", "陈杰", {"phone": "+8613800000003"}),
    "zhao": Officer("zhao", "赵敏", {"phone": "+8613800000009"}),
}

ROSTER = Roster(
    officers=OFFICERS,
    shifts=(Shift("day", 8 * 60, 20 * 60), Shift("night", 20 * 60, 8 * 60)),
    routes=(
        Route(
            chains={"day": ("li", "wang"), "night": ("chen", "li")},
            districts=frozenset({"district-a"}),
            grades=frozenset({Grade.ORANGE, Grade.RED}),
        ),
        Route(chains={"*": ("li",)}, grades=frozenset(WARNING_GRADES)),
    ),
    leaders={"district-a": "zhao"},
    ack_timeout_s=300,
    max_reminders=2,
)

CHANNELS = (
    ChannelSpec("sms", Audience.OFFICER, contact="phone"),
    ChannelSpec("email", Audience.OFFICER, contact="email"),
    ChannelSpec("webhook", scope="station"),
    ChannelSpec(
        "cap",
        scope="group",
        is_public=True,
        reasons=frozenset(
            {
                NoticeReason.FIRED,
                NoticeReason.UPGRADED,
                NoticeReason.DOWNGRADED,
                NoticeReason.RESOLVED,
                NoticeReason.REMINDER,
            }
        ),
    ),
)

TOKENS = {"li": "tok-li", "wang": "tok-wang", "chen": "tok-chen", "zhao": "tok-zhao"}


def pipeline(**overrides: object) -> AlertPipeline:
    values: dict[str, object] = {
        "book": BookPolicy(area_down_dwell_s=600),
        "group": GroupPolicy(wait_s=10, interval_s=300),
        "roster": ROSTER,
        "channels": CHANNELS,
        "links": AckLinks("http://duty.test", TOKENS),
    }
    values.update(overrides)
    return AlertPipeline(PipelineConfig(**values))  # type: ignore[arg-type]


def level(
    station: str,
    grade: Grade,
    ts: float,
    *,
    district: str = "district-a",
    rule: str = "level",
    is_drill: bool = False,
) -> Finding:
    return Finding(
        station,
        district,
        Hazard.FLOOD,
        rule,
        grade,
        ts=ts,
        value=5.0,
        threshold=4.5,
        quantity="level_m",
        station=station,
        source_ts=ts,
        is_drill=is_drill,
    )


def sent(deliveries: list[Delivery]) -> list[tuple[str, str, str, str]]:
    """(key, reason, officer or "", channel) in order."""
    return [(str(d.notice.key), d.notice.reason.value, d.officer, d.channel) for d in deliveries]
