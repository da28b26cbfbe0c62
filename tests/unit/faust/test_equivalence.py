"""Equivalence (issue 7): the same scenario through the embedded runtime and through the Faust
agents in Faust's own test harness gives the same findings, notices, deliveries (the embedded
outbox's rows, the Faust notices topic's records) and refusals."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.unit.faust.helpers import demo_schedule, parts_for, run_embedded, run_faust, settings_for


def test_demo_scenario_gives_the_same_findings_notices_deliveries_and_refusals(
    tmp_path: Path,
) -> None:
    settings = settings_for(tmp_path, notify={"console": True})  # a channel: deliveries
    parts = parts_for(settings)
    items = demo_schedule()
    embedded = asyncio.run(run_embedded(settings, parts, items))
    faust = asyncio.run(
        run_faust(settings_for(tmp_path / "faust", notify={"console": True}), parts, items)
    )
    assert embedded.finding_count > 50 and embedded.notice_count > 10  # the scenario does things
    assert sorted(faust.rejected) == sorted(embedded.rejected)
    assert {reason for _, reason in embedded.rejected} >= {
        "duplicate", "malformed", "unknown_station", "too_late", "future_timestamp", "out_of_range"
    }  # fmt: skip
    for index, (mine, theirs) in enumerate(zip(faust.findings, embedded.findings, strict=True)):
        assert mine == theirs, f"findings differ at item {index}"
    for index, (mine, theirs) in enumerate(zip(faust.notices, embedded.notices, strict=True)):
        assert mine == theirs, f"notices differ at item {index}"
    # the notices topic carries what the embedded runtime's outbox holds, same idempotency keys
    assert embedded.deliveries and faust.deliveries == embedded.deliveries
