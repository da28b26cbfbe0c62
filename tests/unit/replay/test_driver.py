"""The replay loop: the direct path (readings made without JSON) gives exactly the wire path's
notices, batching and chunking change nothing, ticks keep their cadence, and every notice of a
station alert can be traced to what the scenario did."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.replay.helpers import replay_settings, write_world
from yujing.replay.driver import ReplayOptions
from yujing.replay.session import ReplayResult, run_replay


def notices(result: ReplayResult) -> list[tuple[str, int, str, str, float]]:
    return [
        (str(r.notice.key), r.notice.version, r.notice.grade.value, r.notice.reason.value, r.sent)
        for r in result.records
    ]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_world(tmp_path_factory.mktemp("world"))


@pytest.fixture(scope="module")
def direct(world: Path) -> ReplayResult:
    return run_replay(world, replay_settings(world.parent), ReplayOptions(tick_s=10.0))


def test_direct_path_equals_the_wire_path_faults_included(
    world: Path, direct: ReplayResult
) -> None:
    wired = run_replay(world, replay_settings(world.parent), ReplayOptions(tick_s=10.0), wire=True)
    assert notices(direct) == notices(wired)
    assert direct.stats.readings == wired.stats.readings
    assert direct.stats.rejected == wired.stats.rejected
    # the faults were seen by ingest: a clock 400 s fast is refused, duplicates are dropped
    assert direct.stats.rejected["future_timestamp"] > 0
    assert direct.stats.rejected["duplicate"] > 0
    assert len(direct.records) > 40


@pytest.mark.parametrize(("chunk_s", "step_s"), [(60.0, 1.0), (1500.0, 1.0)])
def test_chunking_changes_nothing(
    world: Path, direct: ReplayResult, chunk_s: float, step_s: float
) -> None:
    options = ReplayOptions(step_s=step_s, tick_s=10.0, chunk_s=chunk_s)
    again = run_replay(world, replay_settings(world.parent), options)
    assert notices(again) == notices(direct)


def test_a_coarser_batch_changes_only_when_notices_leave(world: Path, direct: ReplayResult) -> None:
    """``step_s`` is the resolution of ``now``: sequences per alert stay, times round up."""
    coarse = run_replay(
        world, replay_settings(world.parent), ReplayOptions(step_s=5.0, tick_s=10.0)
    )

    def per_key(result: ReplayResult) -> dict[str, list[tuple[int, str, str]]]:
        out: dict[str, list[tuple[int, str, str]]] = {}
        for key, version, grade, reason, _ in notices(result):
            if "/sensor/" not in key:  # silence is measured against the tick clock
                out.setdefault(key, []).append((version, grade, reason))
        return out

    assert per_key(coarse) == per_key(direct)
    assert all(r.sent % 5.0 == 0 for r in coarse.records)


def test_ticks_run_on_the_virtual_clock(direct: ReplayResult) -> None:
    stats = direct.stats
    assert stats.first == direct.origin  # the lead-in arrives at the start, as live
    assert stats.ticks == 150  # every 10 s of the 1,500 s run
    assert all(r.sent >= stats.first for r in direct.records)
    assert stats.readings_per_s > 0


def test_who_was_told(direct: ReplayResult) -> None:
    """Routing is the live roster's: orange gas pages the safety officer, red the leader."""
    paged = {
        (str(r.notice.key), r.notice.grade.value): r.officers for r in direct.records if r.officers
    }
    assert "sun.hao" in paged[("chaoyang/gas_leak/group", "orange")]
    assert "qian.jun" in paged[("chaoyang/gas_leak/group", "red")]
    assert paged[("haidian/ponding/group", "blue")] == ("duty.desk",)
    escalated = [r for r in direct.records if r.notice.reason.value == "escalated"]
    assert escalated and escalated[0].sent - direct.origin >= 300  # ack deadline 300 s
