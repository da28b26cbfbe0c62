"""The SQLite journal (one transaction per step, outbox idempotent, pending after a crash), the
drill interlock at each layer, acknowledgement links, templates, the roster and tokens loaders
(errors name file, line and key), and the report."""

from __future__ import annotations

import asyncio
import textwrap
from pathlib import Path

import pytest

from alerting import Journal
from alerting.acklinks import AckLinks
from alerting.drill import DrillInterlockError, GuardedNotifier, InterlockStage
from alerting.model import Delivery, Step, Suppressed, SuppressedReason
from alerting.notifiers import ConsoleNotifier
from alerting.notifiers.text import check_template
from alerting.report import build_report, format_report
from tests.unit.alerting.conftest import DAY, level, pipeline
from yujing.config.roster import load_roster, load_tokens
from yujing.contracts import AlertKey, ConfigError, Grade, Hazard


def test_commit_is_one_transaction_and_the_outbox_is_idempotent(tmp_path: Path) -> None:
    p = pipeline()
    journal = Journal(tmp_path / "a.db")
    step = p.apply([level("S1", Grade.RED, DAY)], DAY)
    rows = p.changes()
    created = journal.commit(step, rows, DAY)
    assert [r.delivery.outbox_key for r in created] == [d.outbox_key for d in step.deliveries]
    assert journal.commit(step, [], DAY) == []  # the same deliveries again: nothing new
    assert [r.id for r in journal.pending()] == [r.id for r in created]
    journal.mark(created[0].id, "delivered", 1, DAY + 1)
    assert created[0].id not in [r.id for r in journal.pending()]
    again = pipeline()
    again.load(journal.state_rows())
    assert again.book.alerts() == p.book.alerts()
    assert again.duties.items() == p.duties.items()
    journal.close()


def test_a_failed_commit_leaves_nothing_behind(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "a.db")
    p = pipeline()
    step = p.apply([level("S1", Grade.RED, DAY)], DAY)
    with pytest.raises(TypeError):
        journal.commit(step, [("book.entry", "x", object())], DAY)  # not JSON
    assert journal.pending() == []
    assert journal.query("SELECT COUNT(*) FROM transitions") == [(0,)]


def test_interlock_at_the_stage_and_at_the_notifier() -> None:
    p = pipeline()
    [drill] = p.apply([level("S1", Grade.RED, DAY, is_drill=True)], DAY).notices[:1]
    step = Step(
        deliveries=[Delivery(drill, "cap"), Delivery(drill, "unknown"), Delivery(drill, "webhook")]
    )
    InterlockStage({"cap": True, "webhook": False})(step)
    assert [d.channel for d in step.deliveries] == ["webhook"]  # an unknown channel fails closed
    assert [s.reason for s in step.suppressed] == [SuppressedReason.DRILL_PUBLIC] * 2

    class Public(ConsoleNotifier):
        is_public = True

    guarded = GuardedNotifier(Public())
    with pytest.raises(DrillInterlockError):
        asyncio.run(guarded.send(Delivery(drill, "console")))


def test_ack_links_are_per_officer_and_unforgeable() -> None:
    links = AckLinks("http://x", {"li": "a" * 16, "wang": "b" * 16})
    key = AlertKey("d1", Hazard.FLOOD, "group")
    code = links.code("li", key, True)
    assert code is not None and links.verify(code) == ("li", key, True)
    body, signature = code.split(".")
    assert links.verify(f"{body}.{links.code('wang', key, True).split('.')[1]}") is None  # type: ignore[union-attr]
    assert links.url("nobody", key, False) == ""
    assert links.verify("garbage") is None


def test_templates_name_unknown_fields() -> None:
    assert check_template("{grade_zh} {stations}") == "{grade_zh} {stations}"
    with pytest.raises(ValueError, match=r"unknown fields \['grad'\]"):
        check_template("{grad}")


ROSTER = """\
timezone: "+08:00"
officers:
  li: {name: 李伟, phone: "+861"}
  wang: {phone: "+862", contacts: {wecom: wang.fang}}
shifts:
  day: {start: "08:00", end: "20:00"}
  night: {start: "20:00", end: "08:00"}
leaders: {d1: li}
routes:
  - districts: [d1]
    grades: [orange, red]
    chains: {day: [li, wang], night: [wang]}
  - chain: [li]
"""


def write(tmp_path: Path, text: str, name: str = "roster.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def test_the_shipped_roster_loads() -> None:
    roster = load_roster(Path(__file__).resolve().parents[3] / "configs" / "roster.yaml")
    assert roster.leaders == {"haidian": "zhao.min", "chaoyang": "qian.jun"}
    assert roster.ack_timeout_s == 300


def test_roster_loads_into_frozen_objects(tmp_path: Path) -> None:
    roster = load_roster(write(tmp_path, ROSTER))
    assert roster.officers["wang"].contacts == {"wecom": "wang.fang", "phone": "+862"}
    route = roster.route("d1", Hazard.FLOOD, Grade.RED)
    assert route is not None and route.chain(roster.shift_at(DAY)) == ("li", "wang")
    assert route.chain(roster.shift_at(DAY + 12 * 3600)) == ("wang",)
    assert roster.route("d9", Hazard.FLOOD, Grade.BLUE) is roster.routes[1]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("[li, wang]", "[li, zhang]"), r"roster.yaml:12: routes\[0\].chains: officer 'zhang'"),
        (("night: [wang]", "late: [wang]"), r"routes\[0\].chains.late: shift 'late' is not in"),
        (("leaders: {d1: li}", "leaders: {d1: boss}"), r"leaders.d1: officer 'boss'"),
        (('start: "08:00"', 'start: "8am"'), r"shifts.day.start: String should match"),
        (("  - chain: [li]", "  - {}"), r"give either chain"),
    ],
)
def test_roster_errors_name_file_line_and_key(
    tmp_path: Path, change: tuple[str, str], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        load_roster(write(tmp_path, ROSTER.replace(*change)))


def test_tokens_file_never_echoes_a_secret(tmp_path: Path) -> None:
    assert load_tokens(write(tmp_path, "li: abcdefghijklmnop\n", "t.yaml")) == {
        "li": "abcdefghijklmnop"
    }
    with pytest.raises(ConfigError) as caught:
        load_tokens(write(tmp_path, "li: short-secret\n", "t.yaml"))
    assert "short-secret" not in str(caught.value) and "t.yaml:1: li" in str(caught.value)
    with pytest.raises(ConfigError, match="shared"):
        load_tokens(write(tmp_path, "li: abcdefghijklmnop\nwang: abcdefghijklmnop\n", "t.yaml"))


def test_report_measures_delivery_ack_reach_and_escalations(tmp_path: Path) -> None:
    p = pipeline()
    journal = Journal(tmp_path / "r.db")

    def commit(step: Step, now: float) -> None:
        for row in journal.commit(step, p.changes(), now):
            journal.mark(row.id, "delivered", 1, now + 2.0)

    t = DAY
    commit(p.apply([level("S1", Grade.RED, t)], t), t)
    commit(p.advance(t + 300), t + 300)  # no ack within 5 min: escalated
    ack = p.acknowledge(AlertKey("district-a", Hazard.FLOOD, "group"), False, "wang", t + 320)
    commit(ack.step, t + 320)
    report = build_report(journal, since=t - 1)
    red = report.grades["red"]
    assert (red["pages"], red["acknowledged"], red["reached"], red["escalations"]) == (1, 1, 0, 1)
    assert red["deliver_max_s"] == 2.0 and red["ack_p50_s"] == 320
    assert report.targets_met == {
        "red: delivered within 300 s": True,
        "red: reach rate ≥ 95%": False,
    }
    text = format_report(report)
    assert "✗ red: reach rate ≥ 95%" in text and "✓ red: delivered within 300 s" in text
    journal.close()


def test_suppressed_reasons_are_journaled(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "s.db")
    step = Step(
        suppressed=[Suppressed(AlertKey("S1", Hazard.FLOOD, "x"), 2, SuppressedReason.SILENCED)]
    )
    journal.commit(step, [], DAY)
    assert journal.query("SELECT kind, key, json_extract(data, '$.reason') FROM events") == [
        ("suppressed", "S1/flood/x", "silenced")
    ]
