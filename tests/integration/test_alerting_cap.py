"""CAP 1.2 feed: every message valid against the OASIS schema; Alert → Update → Cancel with
references chained; Exercise for drills (on a private feed); a restart continues the chain;
the Atom index lists the messages; a public feed never carries a drill."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from lxml import etree

from alerting import CapFeedNotifier, Dispatcher, Outcome
from alerting.model import Delivery
from alerting.notifiers.cap import cap_xml
from yujing.contracts import AlertKey, AlertState, Grade, Hazard, Notice, NoticeReason
from yujing.metrics import Metrics

SCHEMA = etree.XMLSchema(
    etree.parse(str(Path(__file__).parents[1] / "unit/alerting/data/CAP-v1.2.xsd"))
)
NS = {"cap": "urn:oasis:names:tc:emergency:cap:1.2", "atom": "http://www.w3.org/2005/Atom"}
KEY = AlertKey("haidian", Hazard.FLOOD, "group")
T0 = 1_780_000_000.0
SENDER = "yujing@city.example.org"


def notice(
    version: int, reason: NoticeReason, grade: Grade, previous: Grade, *, is_drill: bool = False
) -> Notice:
    return Notice(
        key=KEY,
        version=version,
        reason=reason,
        grade=grade,
        previous_grade=previous,
        state=AlertState.RESOLVED if grade is Grade.NONE else AlertState.FIRING,
        district="haidian",
        ts=T0 + 60 * version,
        value=5.2,
        threshold=5.0,
        quantity="level_m",
        message="2 stations: HD-W003 red, HD-W004 orange",
        is_drill=is_drill,
        stations=("HD-W003", "HD-W004"),
    )


def valid(xml: bytes) -> etree._Element:
    document = etree.fromstring(xml)
    SCHEMA.assertValid(document)  # raises with the schema's own message when invalid
    return document


def text(document: etree._Element, path: str) -> str | None:
    found = document.find(path, NS)
    return None if found is None else found.text


LIFE = [
    notice(1, NoticeReason.FIRED, Grade.ORANGE, Grade.NONE),
    notice(2, NoticeReason.UPGRADED, Grade.RED, Grade.ORANGE),
    notice(3, NoticeReason.ACKNOWLEDGED, Grade.RED, Grade.RED),  # not published
    notice(4, NoticeReason.DOWNGRADED, Grade.YELLOW, Grade.RED),
    notice(5, NoticeReason.RESOLVED, Grade.NONE, Grade.YELLOW),
]


def publish(feed: CapFeedNotifier, notices: list[Notice]) -> None:
    async def go() -> None:
        for n in notices:
            await feed.send(Delivery(n, feed.name))

    asyncio.run(go())


def test_alert_update_cancel_chain_is_schema_valid_and_referenced(tmp_path: Path) -> None:
    coordinates = {"HD-W003": (40.03, 116.33)}
    feed = CapFeedNotifier(
        "cap",
        tmp_path,
        sender=SENDER,
        coordinates=coordinates,
        base_url="http://duty.example/cap/cap",
    )
    publish(feed, LIFE[:3])
    # a restart in the middle: the chain continues from the feed folder
    again = CapFeedNotifier("cap", tmp_path, sender=SENDER, coordinates=coordinates)
    publish(again, LIFE[3:])

    files = sorted(p for p in tmp_path.glob("*.xml") if p.name != "feed.xml")
    documents = sorted(
        (valid(p.read_bytes()) for p in files), key=lambda d: text(d, "cap:sent") or ""
    )
    assert [text(d, "cap:msgType") for d in documents] == ["Alert", "Update", "Update", "Cancel"]
    ids = [text(d, "cap:identifier") for d in documents]
    assert ids[0] == "yujing:haidian/flood/group#1"
    sent = [text(d, "cap:sent") for d in documents]
    assert sent[0] == "2026-05-28T20:27:40+00:00"
    assert text(documents[0], "cap:references") is None
    for index in (1, 2, 3):  # each message references every earlier one of the chain
        expected = " ".join(
            f"{SENDER},{i},{s}" for i, s in zip(ids[:index], sent[:index], strict=True)
        )
        assert text(documents[index], "cap:references") == expected
    first = documents[0]
    assert text(first, "cap:status") == "Actual"
    assert text(first, "cap:scope") == "Public"
    assert text(first, "cap:info/cap:severity") == "Severe"
    assert text(first, "cap:info/cap:urgency") == "Immediate"
    assert text(first, "cap:info/cap:category") == "Met"
    assert text(first, "cap:info/cap:area/cap:circle") == "40.03000,116.33000 2"
    assert text(documents[1], "cap:info/cap:severity") == "Extreme"
    assert text(documents[3], "cap:info/cap:responseType") == "AllClear"
    atom = etree.fromstring((tmp_path / "feed.xml").read_bytes())
    entries = atom.findall("atom:entry", NS)
    assert [e.findtext("atom:id", namespaces=NS) for e in entries] == ids[::-1]


def test_a_drill_is_exercise_on_a_private_feed(tmp_path: Path) -> None:
    message = cap_xml(
        notice(1, NoticeReason.FIRED, Grade.RED, Grade.NONE, is_drill=True),
        sender=SENDER,
        references=[],
        is_public=False,
    )
    document = valid(message.xml)
    assert text(document, "cap:status") == "Exercise"
    assert text(document, "cap:scope") == "Restricted"
    assert text(document, "cap:restriction")
    assert "演练" in (text(document, "cap:info/cap:headline") or "")


@pytest.mark.parametrize("grade", [Grade.BLUE, Grade.YELLOW, Grade.ORANGE, Grade.RED])
@pytest.mark.parametrize("hazard", list(Hazard))
def test_every_hazard_and_grade_is_valid(hazard: Hazard, grade: Grade) -> None:
    n = Notice(
        AlertKey("S1", hazard, "rule_a"),
        1,
        NoticeReason.FIRED,
        grade,
        Grade.NONE,
        AlertState.FIRING,
        "d1",
        T0,
        value=float("nan"),
        quantity="x<&>",
    )
    valid(cap_xml(n, sender=SENDER, references=[], is_public=True).xml)


def test_a_public_feed_never_gets_a_drill_even_through_the_dispatcher(tmp_path: Path) -> None:
    metrics = Metrics()
    feed = CapFeedNotifier("cap", tmp_path, sender=SENDER, is_public=True)

    async def go() -> None:
        dispatcher = Dispatcher([feed], metrics)
        await dispatcher.start()
        drill = notice(1, NoticeReason.FIRED, Grade.RED, Grade.NONE, is_drill=True)
        dispatcher.deliver(Delivery(drill, "cap"))  # a misrouted drill, past the pipeline
        assert await dispatcher.drain(2.0)
        await dispatcher.close()

    asyncio.run(go())
    assert list(tmp_path.glob("*.xml")) == []
    labels = {"channel": "cap", "outcome": Outcome.DRILL_BLOCKED.value}
    assert metrics.registry.get_sample_value("yujing_notifications_total", labels) == 1
