"""The boards' own queries for tests: one panel's InfluxQL as Grafana sends it."""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Any

import dashboards
from yujing.config import load_ladders

REPO = Path(__file__).resolve().parents[2]


@functools.cache
def _boards() -> dict[str, dict[str, Any]]:
    return dashboards.build_all(load_ladders(REPO / "configs" / "ladders"))


def panel_query(board: str, title: str, values: dict[str, str], time_range: str = "6h") -> str:
    """The InfluxQL of the one target of the panel whose title starts with ``title`` on
    ``board`` (a file name, ``yujing-alerts.json``), with Grafana's macros and the variables
    ``values`` filled in (``.*`` is "All")."""
    found = [
        q.text
        for q in dashboards.queries(_boards()[board])
        if q.where.startswith(f"panel '{title}")
    ]
    assert len(found) == 1, (board, title, len(found))
    text = found[0].replace("$timeFilter", f"time >= now() - {time_range}")
    text = text.replace("$__interval", "1m")
    return re.sub(r"\$(\w+)", lambda m: values.get(m.group(1), m.group(0)), text)
