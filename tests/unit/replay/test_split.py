"""The split replay (per-station detectors in a forked child, yujing.replay.split) says exactly
what the one-process replay says, faults and rejections included, on both paths; and a child
that fails stops the replay with its reason instead of hanging it."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import pytest

from tests.unit.replay.helpers import replay_settings, write_world
from yujing.contracts import Finding
from yujing.pipeline import Pipeline
from yujing.replay.driver import ReplayOptions
from yujing.replay.session import ReplayResult, run_replay
from yujing.replay.split import SplitReplay
from yujing.replay.wiring import build_replay, open_source


def said(result: ReplayResult) -> list[tuple[str, int, str, str, float, str]]:
    return [
        (str(r.notice.key), r.notice.version, r.notice.grade.value, r.notice.reason.value,
         r.sent, r.notice.message)
        for r in result.records
    ]  # fmt: skip


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_world(tmp_path_factory.mktemp("world"))


@pytest.mark.parametrize(
    ("wire", "processes", "own_share"),
    [(False, 1, 0.15), (True, 1, 0.15), (False, 1, 0.0), (False, 2, 0.5), (False, 3, 0.15)],
    ids=["direct", "wire", "all-in-the-child", "two-children-half-here", "three-children"],
)  # fmt: skip
def test_the_split_replay_says_what_the_single_process_replay_says(
    world: Path, wire: bool, processes: int, own_share: float
) -> None:
    settings = replay_settings(world.parent)
    one = run_replay(world, settings, ReplayOptions(tick_s=10.0), wire=wire)
    source, *_ = open_source(world, wire=wire)
    pipeline, grader, _ = build_replay(settings, source, ReplayOptions(tick_s=10.0))
    options = ReplayOptions(tick_s=10.0, split=True)
    split = SplitReplay(pipeline, grader, options, processes=processes, own_share=own_share)
    stats = split.run(source)
    two = replace(one, stats=stats, records=grader.records)
    assert len(one.records) > 40
    assert said(two) == said(one)
    assert (two.stats.readings, two.stats.findings) == (one.stats.readings, one.stats.findings)
    assert two.stats.rejected == one.stats.rejected  # duplicates and a fast clock refused
    assert two.stats.rejected["duplicate"] > 0


class _FailingInChild(Pipeline):
    """A pipeline whose first tier breaks in the child process only."""

    parent = os.getpid()

    def first_tier_advance(
        self, now: float, stations: Sequence[str] | None = None
    ) -> list[Finding]:
        if os.getpid() != self.parent:
            raise ValueError("the first tier broke")
        return super().first_tier_advance(now, stations)


def test_a_failing_first_tier_process_stops_the_replay_with_its_reason(world: Path) -> None:
    settings = replay_settings(world.parent)
    source, *_ = open_source(world)
    pipeline, grader, _ = build_replay(settings, source, ReplayOptions(tick_s=10.0))
    pipeline.__class__ = _FailingInChild
    replay = SplitReplay(pipeline, grader, ReplayOptions(tick_s=10.0, split=True))
    with pytest.raises(RuntimeError, match="the first tier broke"):
        replay.run(source)
