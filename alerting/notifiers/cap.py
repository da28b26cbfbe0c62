"""CAP 1.2 feed: each alert transition as an OASIS Common Alerting Protocol message, plus an Atom
index, written to a folder the HTTP API serves (``/cap/feed.xml``, ``/cap/<file>``).

Message types and chaining:

==============================  ==========  ==================================================
notice                          msgType     references
==============================  ==========  ==================================================
FIRED                           Alert       none: a new chain starts
UPGRADED, DOWNGRADED, REMINDER  Update      every earlier message of this alert's chain
RESOLVED                        Cancel      every earlier message (then the chain ends)
ACKNOWLEDGED, ESCALATED         —           duty-room business: not published
==============================  ==========  ==================================================

``references`` is the CAP list of ``sender,identifier,sent`` triples, space separated.
Identifiers are ``yujing:{alert key}#{version}`` (no spaces, commas, ``<`` or ``&``), ``sent``
is the notice's own time, so a message re-sent after a crash is byte-identical and simply
rewrites its file. The chains live in ``chains.json`` in the feed folder (atomic writes), so a
restart continues them.

Drills have ``status`` ``Exercise``; everything else ``Actual``. A feed marked public has scope
``Public`` and, by the drill interlock, never gets an exercise; a private feed (e.g. for the city
platform) has scope ``Restricted``. Grades map to CAP severity red Extreme, orange Severe, yellow
Moderate, blue Minor; urgency Immediate for orange/red, Expected otherwise; certainty Observed.
Where the registry knows a station's coordinates, the area carries a ``circle`` around it.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from alerting.model import Delivery
from alerting.notifiers import text
from yujing.contracts import Grade, Hazard, Notice, NoticeReason
from yujing.files import atomic_write_bytes, atomic_write_json, read_json

__all__ = ["CAP_NS", "CapFeedNotifier", "CapMessage", "cap_xml", "identifier"]

CAP_NS = "urn:oasis:names:tc:emergency:cap:1.2"
ATOM_NS = "http://www.w3.org/2005/Atom"

MSG_TYPE = {
    NoticeReason.FIRED: "Alert",
    NoticeReason.UPGRADED: "Update",
    NoticeReason.DOWNGRADED: "Update",
    NoticeReason.REMINDER: "Update",
    NoticeReason.RESOLVED: "Cancel",
}
PUBLISHED = frozenset(MSG_TYPE)
SEVERITY = {
    Grade.RED: "Extreme",
    Grade.ORANGE: "Severe",
    Grade.YELLOW: "Moderate",
    Grade.BLUE: "Minor",
}
CATEGORY = {
    Hazard.RAINSTORM: "Met",
    Hazard.FLOOD: "Met",
    Hazard.PONDING: "Met",
    Hazard.FLASH_FLOOD: "Met",
    Hazard.EARTHQUAKE: "Geo",
    Hazard.DEBRIS_FLOW: "Geo",
    Hazard.GAS_LEAK: "Safety",
    Hazard.TOXIC_GAS: "CBRNE",
    Hazard.TANK: "Safety",
    Hazard.TANK_INTEGRITY: "Safety",
    Hazard.SENSOR: "Infra",
    Hazard.ANOMALY: "Other",
}


def cap_time(ts: float) -> str:
    """CAP's dateTime form: seconds, explicit offset, no ``Z``."""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def identifier(notice: Notice) -> str:
    return f"yujing:{notice.idempotency_key}"


@dataclass(frozen=True, slots=True)
class CapMessage:
    identifier: str
    sent: str
    msg_type: str
    xml: bytes

    @property
    def filename(self) -> str:
        """URL- and file-safe, one to one with the identifier: percent-escapes with ``~``."""
        return quote(self.identifier, safe="").replace("%", "~") + ".xml"


def _sub(parent: ET.Element, tag: str, value: str) -> ET.Element:
    element = ET.SubElement(parent, f"{{{CAP_NS}}}{tag}")
    element.text = value
    return element


def cap_xml(
    notice: Notice,
    *,
    sender: str,
    references: list[tuple[str, str]],
    is_public: bool,
    coordinates: Mapping[str, tuple[float, float]] | None = None,
    radius_km: float = 2.0,
    sender_name: str = "yujing 预警",
    web: str = "",
) -> CapMessage:
    """The CAP 1.2 message for ``notice``; ``references``: (identifier, sent) of the chain."""
    msg_type = MSG_TYPE[notice.reason]
    sent = cap_time(notice.ts)
    ident = identifier(notice)
    grade = notice.grade if notice.grade.is_warning else notice.previous_grade
    fields = text.fields(Delivery(notice, "cap"))
    root = ET.Element(f"{{{CAP_NS}}}alert")
    _sub(root, "identifier", ident)
    _sub(root, "sender", sender)
    _sub(root, "sent", sent)
    _sub(root, "status", "Exercise" if notice.is_drill else "Actual")
    _sub(root, "msgType", msg_type)
    _sub(root, "source", "yujing")
    _sub(root, "scope", "Public" if is_public else "Restricted")
    if not is_public:
        _sub(root, "restriction", "duty officers and emergency management platforms")
    if notice.is_drill:
        _sub(root, "note", "EXERCISE 演练 — not a real alert")
    if references:
        _sub(root, "references", " ".join(f"{sender},{i},{s}" for i, s in references))
    _sub(root, "incidents", str(notice.key))
    info = ET.SubElement(root, f"{{{CAP_NS}}}info")
    _sub(info, "language", "zh-CN")
    _sub(info, "category", CATEGORY.get(notice.hazard, "Other"))
    _sub(info, "event", f"{fields['hazard_zh']}预警 ({notice.hazard.value})")
    _sub(info, "responseType", "AllClear" if msg_type == "Cancel" else "Monitor")
    orange_or_red = grade in (Grade.ORANGE, Grade.RED)
    _sub(info, "urgency", "Immediate" if orange_or_red else "Expected")
    _sub(info, "severity", SEVERITY.get(grade, "Unknown"))
    _sub(info, "certainty", "Observed")
    _sub(info, "onset", sent)
    _sub(info, "senderName", sender_name)
    headline = f"{fields['tag']}{fields['grade_zh']}{fields['hazard_zh']}预警{fields['reason_zh']}"
    _sub(info, "headline", f"{headline}: {notice.district}")
    description = f"{fields['stations']}; {fields['measure']}"
    if notice.message:
        description += f"; {notice.message}"
    _sub(info, "description", description)
    if web:
        _sub(info, "web", web)
    for name, value in (
        ("grade", grade.value),
        ("reason", notice.reason.value),
        ("alert_key", str(notice.key)),
        ("version", str(notice.version)),
    ):
        parameter = ET.SubElement(info, f"{{{CAP_NS}}}parameter")
        _sub(parameter, "valueName", name)
        _sub(parameter, "value", value)
    area = ET.SubElement(info, f"{{{CAP_NS}}}area")
    _sub(area, "areaDesc", f"{notice.district}: {fields['stations']}")
    for station in notice.stations or (notice.key.area,):
        where = (coordinates or {}).get(station)
        if where is not None:
            _sub(area, "circle", f"{where[0]:.5f},{where[1]:.5f} {radius_km:g}")
    ET.register_namespace("", CAP_NS)
    xml = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return CapMessage(ident, sent, msg_type, xml)


class CapFeedNotifier:
    """Writes CAP messages and the Atom index into ``feed_dir``."""

    def __init__(
        self,
        name: str,
        feed_dir: Path,
        *,
        sender: str = "yujing@localhost",
        is_public: bool = True,
        coordinates: Mapping[str, tuple[float, float]] | None = None,
        radius_km: float = 2.0,
        max_entries: int = 200,
        base_url: str = "",
    ) -> None:
        """``base_url``: where the API serves this feed (``…/cap/<name>``), for Atom links."""
        if any(c in sender for c in " ,<&"):
            raise ValueError(
                f"cap {name}: sender {sender!r} must not contain spaces, ',', '<', '&'"
            )
        self.name = name
        self.is_public = is_public
        self.feed_dir = feed_dir
        self._sender = sender
        self._coordinates = dict(coordinates or {})
        self._radius_km = radius_km
        self._max_entries = max_entries
        self._base_url = base_url.rstrip("/")
        self._index_path = feed_dir / "chains.json"
        state: Any = read_json(self._index_path) or {}
        self._chains: dict[str, list[list[str]]] = dict(state.get("chains", {}))
        self._entries: list[dict[str, str]] = list(state.get("entries", []))

    async def send(self, delivery: Delivery) -> None:
        notice = delivery.notice
        if notice.reason not in PUBLISHED:
            return
        chain_id = f"{notice.key}#drill" if notice.is_drill else str(notice.key)
        chain = [] if notice.reason is NoticeReason.FIRED else self._chains.get(chain_id, [])
        if notice.reason is NoticeReason.RESOLVED and not chain:
            return  # nothing of this alert was published: nothing to cancel
        if any(ident == identifier(notice) for ident, _ in chain):
            chain = [link for link in chain if link[0] != identifier(notice)]  # a re-send
        message = cap_xml(
            notice,
            sender=self._sender,
            references=[(i, s) for i, s in chain],
            is_public=self.is_public,
            coordinates=self._coordinates,
            radius_km=self._radius_km,
            web=self._base_url,
        )
        atomic_write_bytes(self.feed_dir / message.filename, message.xml)
        if notice.reason is NoticeReason.RESOLVED:
            self._chains.pop(chain_id, None)
        else:
            self._chains[chain_id] = [*chain, [message.identifier, message.sent]]
        self._entries = [e for e in self._entries if e["id"] != message.identifier]
        self._entries.append(
            {
                "id": message.identifier,
                "file": message.filename,
                "sent": message.sent,
                "title": f"{message.msg_type}: {notice.grade.value} {notice.hazard.value} "
                f"{notice.district} ({notice.key} v{notice.version})",
            }
        )
        self._entries = self._entries[-self._max_entries :]
        atomic_write_json(self._index_path, {"chains": self._chains, "entries": self._entries})
        atomic_write_bytes(self.feed_dir / "feed.xml", self._atom())

    def _atom(self) -> bytes:
        ET.register_namespace("", ATOM_NS)
        feed = ET.Element(f"{{{ATOM_NS}}}feed")

        def add(parent: ET.Element, tag: str, value: str) -> ET.Element:
            element = ET.SubElement(parent, f"{{{ATOM_NS}}}{tag}")
            element.text = value
            return element

        add(feed, "id", f"urn:yujing:cap:{self.name}")
        add(feed, "title", f"yujing CAP feed ({self.name})")
        add(feed, "updated", self._entries[-1]["sent"] if self._entries else cap_time(0))
        for entry in reversed(self._entries):
            item = ET.SubElement(feed, f"{{{ATOM_NS}}}entry")
            add(item, "id", entry["id"])
            add(item, "title", entry["title"])
            add(item, "updated", entry["sent"])
            link = ET.SubElement(item, f"{{{ATOM_NS}}}link")
            link.set("href", f"{self._base_url}/{entry['file']}")
            link.set("type", "application/cap+xml")
        data: bytes = ET.tostring(feed, encoding="utf-8", xml_declaration=True)
        return data

    async def close(self) -> None:
        return None
