"""The exported JSON Schema: committed copy current, examples valid, and the same contract as the
decoder's hand-written fast path."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from ingest import EXAMPLES, Decoder, json_schema, validate_body, write_json_schema
from ingest.schema import PlainReadingBody, SeismicReadingBody
from tests.unit.ingest.helpers import NOW, REPO, payload
from tests.unit.ingest.test_rejections import CASES
from yujing.contracts import Kind, PayloadRejected, RejectReason

COMMITTED = REPO / "docs" / "schema" / "reading.schema.json"


def test_committed_schema_is_current() -> None:
    assert json.loads(COMMITTED.read_text()) == json_schema(), (
        "docs/schema/reading.schema.json is stale: call ingest.write_json_schema()"
    )


def test_write_json_schema_creates_parents(tmp_path: Path) -> None:
    path = write_json_schema(tmp_path / "a" / "b" / "reading.schema.json")
    assert path.read_text() == COMMITTED.read_text()


def test_schema_is_one_of_plain_or_seismic() -> None:
    schema = json_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["oneOf"] == [
        {"$ref": "#/$defs/PlainReadingBody"},
        {"$ref": "#/$defs/SeismicReadingBody"},
    ]
    plain, seismic = schema["$defs"]["PlainReadingBody"], schema["$defs"]["SeismicReadingBody"]
    assert plain["required"] == ["station", "ts", "seq", "values"]
    assert seismic["required"] == ["station", "seq", "channel", "sr", "t0", "samples"]
    assert plain["additionalProperties"] is False and seismic["additionalProperties"] is False
    assert len(schema["examples"]) == len(Kind)


@pytest.mark.parametrize("kind", list(Kind))
def test_examples_validate_and_decode(decoder: Decoder, kind: Kind) -> None:
    topic, body = EXAMPLES[kind]
    model = SeismicReadingBody if kind is Kind.SEISMIC else PlainReadingBody
    assert isinstance(validate_body(body), model)
    assert decoder.decode(topic, payload(body), NOW).kind is kind


@pytest.mark.parametrize(
    "body",
    [
        {"station": "R1", "ts": "2026-07-21T06:05:00", "seq": 1, "values": {"rain_mm": 1}},
        {"station": "R1", "ts": 1_784_613_900, "seq": 1, "values": {"rain_mm": 1}},
        {"station": "R1", "ts": 1_784_613_900_000, "seq": -1, "values": {"rain_mm": 1}},
        {"station": "R1", "ts": 1_784_613_900_000, "seq": 1, "values": {"rain_mm": "1"}},
        {"station": "R1", "ts": 1_784_613_900_000, "seq": 1, "values": {"rain_mm": True}},
        {"station": "R1", "ts": 1_784_613_900_000, "seq": 1, "values": {"rain_mm": float("nan")}},
        {"station": "R 1", "ts": 1_784_613_900_000, "seq": 1, "values": {}},
        {"station": "R1", "ts": 1_784_613_900_000, "seq": 1},
        {"station": "S1", "seq": 1, "channel": "HNZ", "sr": 0, "t0": 1_784_613_900_000,
         "samples": [0.1]},
        {"station": "S1", "seq": 1, "channel": "HNZ", "sr": 100, "t0": 1_784_613_900_000,
         "samples": [0.1], "values": {"rain_mm": 1}},
    ],
)  # fmt: skip
def test_bad_bodies_are_refused(body: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        validate_body(body)


def _conformance_cases() -> list[tuple[str, str, Any]]:
    """(id, topic, body) for every rejection case whose payload is a JSON value."""
    cases = []
    for case_id, topic, raw, reason, _ in CASES:
        if reason in (RejectReason.OVERSIZED, RejectReason.NON_FINITE) or "huge" in case_id:
            continue  # not about shape, or not expressible as a finite JSON number
        if reason in (RejectReason.BAD_TOPIC, RejectReason.UNKNOWN_STATION):
            continue
        try:
            body = json.loads(raw)
        except ValueError:
            continue
        cases.append((case_id, topic, body))
    return cases + [(f"example {kind}", topic, body) for kind, (topic, body) in EXAMPLES.items()]


@pytest.mark.parametrize(
    ("topic", "body"),
    [case[1:] for case in _conformance_cases()],
    ids=[case[0] for case in _conformance_cases()],
)
def test_schema_and_fast_path_agree_on_shape(decoder: Decoder, topic: str, body: Any) -> None:
    """Schema-valid for the topic's kind ⇔ the decoder does not call it malformed."""
    model: type[BaseModel] = SeismicReadingBody if "/seismic/" in topic else PlainReadingBody
    try:
        model.model_validate(body)
        schema_valid = True
    except ValidationError:
        schema_valid = False
    try:
        decoder.decode(topic, payload(body), NOW)
        malformed = False
    except PayloadRejected as exc:
        malformed = exc.reason is RejectReason.MALFORMED
    assert schema_valid is not malformed
