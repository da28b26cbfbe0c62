"""The harness's pure parts: statistics, targets, the result file and the summary table."""

from __future__ import annotations

import doctest
import json
from pathlib import Path

import bench.harness as harness
from bench.harness import Figure, Options, Result, Target, summarize, write_result, write_summary


def test_doctests() -> None:
    assert doctest.testmod(harness).failed == 0


def test_ratio_and_target_in_both_directions() -> None:
    rate = Figure("rate", "msg/s", summarize([70.0]), baseline=summarize([100.0]),
                  target=Target(0.6, "ratio", "≥ 0.6 × raw"))  # fmt: skip
    assert rate.ratio == 0.7 and rate.met is True
    slow = Figure("p99", "ms", summarize([60.0, 40.0, 80.0]), better="lower",
                  target=Target(50.0, "figure", "≤ 50 ms"))  # fmt: skip
    assert slow.value.median == 60.0 and slow.ratio is None and slow.met is False
    nothing = Figure("p99", "ms", summarize([float("nan")]), better="lower", target=Target(1.0))
    assert nothing.met is False  # nothing measured never counts as met


def test_result_file_and_summary(tmp_path: Path) -> None:
    options = Options(quick=True, reps=2, out=tmp_path)
    result = Result("demo", "A demo", figures=[
        Figure("rate", "msg/s", summarize([1.0, 3.0]), baseline=summarize([4.0, 4.0]),
               baseline_name="raw", target=Target(0.6, "ratio", "≥ 0.6 × raw"))])  # fmt: skip
    write_result(result, options, started=0.0)
    write_result(Result("gone", "Missing", status="not available", reason="no module"), options,
                 started=0.0)  # fmt: skip
    doc = json.loads((tmp_path / "demo.json").read_text())
    assert doc["figures"][0]["median"] == 2.0
    assert doc["figures"][0]["spread"] == {"min": 1.0, "max": 3.0, "n": 2, "relative": 1.0,
                                           "samples": [1.0, 3.0]}  # fmt: skip
    assert doc["figures"][0]["ratio"] == 0.5 and doc["figures"][0]["target"]["met"] is False
    assert {"cores", "cpu_model", "loadavg_1_5_15"} <= set(doc["machine"])
    summary = write_summary(tmp_path).read_text()
    assert "| demo | rate [msg/s] | 2 (1–3) | 4 (4–4) raw | 0.5 |" in summary
    assert "**not met**" in summary
    assert "| gone | not available: no module |" in summary
