"""ingest stage (DESIGN §2): MQTT in, validated :class:`~yujing.contracts.Reading` out.

- ``topics``: the topic scheme ``{prefix}/{district}/{kind}/{station}``.
- ``schema``: the wire contract as pydantic models, exported as JSON Schema.
- ``wire``: the hand-written fast-path checks of that contract.
- ``history``: per-station watermark and duplicate memory.
- ``decode``: :class:`Decoder`, bytes → Reading or ``PayloadRejected(reason)``.
- ``deadletter``: refused messages with their reason, as JSON Lines.
- ``mqtt``: :class:`MqttSource`, paho client with persistent session and manual acks.
"""

from typing import TYPE_CHECKING

from yujing.lazy import lazy_exports

if TYPE_CHECKING:
    from ingest.deadletter import DeadLetter, DeadLetterFile
    from ingest.decode import Decoder, LateReading
    from ingest.history import StationHistory
    from ingest.mqtt import MqttSource, Protocol, RawMessage, connect_client, read_password
    from ingest.schema import EXAMPLES, json_schema, validate_body, write_json_schema
    from ingest.topics import DEFAULT_PREFIX, TopicParts, parse_topic, reading_topic, subscription

__getattr__ = lazy_exports(
    globals(),
    {
        "DeadLetter": "ingest.deadletter",
        "DeadLetterFile": "ingest.deadletter",
        "Decoder": "ingest.decode",
        "LateReading": "ingest.decode",
        "StationHistory": "ingest.history",
        "MqttSource": "ingest.mqtt",
        "Protocol": "ingest.mqtt",
        "RawMessage": "ingest.mqtt",
        "connect_client": "ingest.mqtt",
        "read_password": "ingest.mqtt",
        "EXAMPLES": "ingest.schema",
        "json_schema": "ingest.schema",
        "validate_body": "ingest.schema",
        "write_json_schema": "ingest.schema",
        "DEFAULT_PREFIX": "ingest.topics",
        "TopicParts": "ingest.topics",
        "parse_topic": "ingest.topics",
        "reading_topic": "ingest.topics",
        "subscription": "ingest.topics",
    },
)

__all__ = [
    "DEFAULT_PREFIX",
    "EXAMPLES",
    "DeadLetter",
    "DeadLetterFile",
    "Decoder",
    "LateReading",
    "MqttSource",
    "Protocol",
    "RawMessage",
    "StationHistory",
    "TopicParts",
    "connect_client",
    "json_schema",
    "parse_topic",
    "read_password",
    "reading_topic",
    "subscription",
    "validate_body",
    "write_json_schema",
]
