from __future__ import annotations

import pytest

from ingest import parse_topic, reading_topic, subscription
from ingest.topics import TopicParts
from yujing.contracts import Kind, PayloadRejected, RejectReason


def test_round_trip_for_every_kind() -> None:
    for kind in Kind:
        topic = reading_topic("yujing/v1", "haidian", kind, "HD-01")
        assert topic == f"yujing/v1/haidian/{kind.value}/HD-01"
        assert parse_topic(topic) == TopicParts("haidian", kind, "HD-01")


def test_custom_prefix() -> None:
    assert parse_topic("city/x/v1/d1/gas/G.1", "city/x/v1") == TopicParts("d1", Kind.GAS, "G.1")
    assert subscription("city/x/v1") == "city/x/v1/+/+/+"


@pytest.mark.parametrize(
    ("topic", "problem"),
    [
        ("yujing/v2/haidian/rain/R1", "not under 'yujing/v1/'"),
        ("yujing/v1x/haidian/rain/R1", "not under 'yujing/v1/'"),
        ("yujing/v1/haidian/rain", "expected yujing/v1/{district}/{kind}/{station}"),
        ("yujing/v1/haidian/rain/R1/extra", "expected yujing/v1/{district}/{kind}/{station}"),
        ("yujing/v1/haidian/tank/R1", "unknown kind 'tank'"),
        ("yujing/v1/haidian/Rain/R1", "unknown kind 'Rain'"),
        ("yujing/v1//rain/R1", "district '' must match"),
        ("yujing/v1/haidian/rain/", "station '' must match"),
        ("yujing/v1/haidian/rain/R 1", "station 'R 1' must match"),
        ("yujing/v1/haidian/rain/R1\n", "station 'R1\\n' must match"),
    ],
)
def test_bad_topics_name_the_problem(topic: str, problem: str) -> None:
    with pytest.raises(PayloadRejected) as caught:
        parse_topic(topic)
    assert caught.value.reason is RejectReason.BAD_TOPIC
    assert caught.value.detail.startswith(f"topic {topic!r}: ")
    assert problem in caught.value.detail
