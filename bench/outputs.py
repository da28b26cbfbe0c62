"""Every finding and notice of the shipped scenarios, to check a speed change changed nothing.

``python -m bench.outputs write FILE`` replays each scenario of ``configs/scenarios/`` (and
three hours of the 24 h city storm) through the production pipeline and writes one JSON line per
finding (evidence included) and per notice, in order; ``python -m bench.outputs check FILE``
does the same and reports the first line that differs. Run ``write`` before an optimisation and
``check`` after it: the performance notes' "outputs identical" claims come from this.
``--split`` replays with the first tier in a second process (:mod:`yujing.replay.split`).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from yujing.config import load_settings
from yujing.contracts import Finding
from yujing.pipeline import StepResult
from yujing.replay.driver import Replay, ReplayOptions
from yujing.replay.split import SplitReplay
from yujing.replay.wiring import REPLAY_SETTINGS, build_replay, open_source

SCENARIOS = Path(__file__).resolve().parent.parent / "configs" / "scenarios"
CASES: tuple[tuple[str, float, float | None], ...] = (
    # (scenario, tick_s, hours to replay or None for all of it)
    ("demo.yaml", 1.0, None),
    ("chemical-park-leak.yaml", 1.0, None),
    ("quake-network.yaml", 1.0, None),
    ("mountain-flash-flood.yaml", 60.0, None),
    ("beijing-0720.yaml", 60.0, None),
    ("storm-24h-1600.yaml", 60.0, 3.0),
)


class _Keeping(Replay):
    """A replay that keeps every line of output as it goes."""

    lines: list[str]

    def _count(self, result: StepResult) -> None:
        super()._count(result)
        self.lines.extend(_finding_line(f) for f in result.findings)
        self.lines.extend(json.dumps(n.to_json(), sort_keys=True) for n in result.notices)


class _SplitKeeping(SplitReplay, _Keeping):
    """The same, with the first tier in a second process."""


def _finding_line(finding: Finding) -> str:
    return json.dumps(dataclasses.asdict(finding), sort_keys=True, default=str)


def lines(only: list[str] | None = None, *, split: bool = False) -> Iterator[str]:
    """The output lines of every case (or of those named in ``only``), each headed by its name."""
    settings = load_settings(REPLAY_SETTINGS)
    for name, tick_s, hours in CASES:
        if only and not any(name.startswith(prefix) for prefix in only):
            continue
        source, *_ = open_source(SCENARIOS / name)
        if hours is not None:
            source.end = source.first + hours * 3600.0
        options = ReplayOptions(tick_s=tick_s)
        pipeline, grader, _ = build_replay(settings, source, options)
        replay = (_SplitKeeping if split else _Keeping)(pipeline, grader, options)
        replay.lines = []
        began = time.perf_counter()
        replay.run(source)
        print(f"{name}: {len(replay.lines)} lines, {time.perf_counter() - began:.1f} s",
              file=sys.stderr)  # fmt: skip
        yield f"# {name}"
        yield from replay.lines


def _cases(recorded: list[str], only: list[str] | None) -> list[str]:
    """The recorded lines of the cases named in ``only`` (all without it)."""
    kept, keep = [], True
    for line in recorded:
        if line.startswith("# "):
            keep = not only or any(line[2:].startswith(prefix) for prefix in only)
        if keep:
            kept.append(line)
    return kept


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.outputs", description=__doc__)
    parser.add_argument("action", choices=["write", "check"])
    parser.add_argument("file", type=Path)
    parser.add_argument("--only", nargs="*", help="scenario name prefixes (default: all)")
    parser.add_argument("--split", action="store_true", help="replay on two processes")
    args = parser.parse_args(argv)
    if args.action == "write":
        args.file.write_text("".join(line + "\n" for line in lines(args.only, split=args.split)))
        return 0
    expected = _cases(args.file.read_text().splitlines(), args.only)
    got = list(lines(args.only, split=args.split))
    for number, (want, have) in enumerate(zip(expected, got, strict=False), 1):
        if want != have:
            print(f"line {number} differs:\n  was: {want[:400]}\n  now: {have[:400]}")
            return 1
    if len(expected) != len(got):
        print(f"{len(expected)} lines before, {len(got)} now")
        return 1
    print(f"identical: {len(got)} lines")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
