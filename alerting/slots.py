"""An alert's slot: its key and whether it is the drill alert of that key; and the slot's
stable text form, used as row id in the journal (``S003/flood/level`` or
``S003/flood/level#drill``).

>>> from yujing.contracts import Hazard
>>> slot = (AlertKey("S003", Hazard.FLOOD, "level"), True)
>>> slot_id(slot), parse_slot(slot_id(slot)) == slot
('S003/flood/level#drill', True)
"""

from __future__ import annotations

from yujing.contracts import AlertKey

__all__ = ["Slot", "parse_slot", "slot_id"]

# (alert key, is_drill): drills never share a slot with the real alert of the same key
Slot = tuple[AlertKey, bool]
_DRILL = "#drill"


def slot_id(slot: Slot) -> str:
    return f"{slot[0]}{_DRILL}" if slot[1] else str(slot[0])


def parse_slot(text: str) -> Slot:
    if text.endswith(_DRILL):
        return AlertKey.parse(text[: -len(_DRILL)]), True
    return AlertKey.parse(text), False
