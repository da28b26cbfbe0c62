"""What every benchmark shares: options, statistics, machine and commit, the result file.

A benchmark returns a :class:`Result`: a list of :class:`Figure` rows, each a measured value
(median over repetitions, with its spread) next to a baseline measured in the same run, their
ratio, and a target reported as met or not met (never asserted). :func:`write_result` writes
``<out>/<name>.json``; :func:`write_summary` turns every result file in ``<out>`` into
``SUMMARY.md``.

>>> s = summarize([3.0, 1.0, 2.0])
>>> (s.median, s.low, s.high, s.n)
(2.0, 1.0, 3.0, 3)
>>> percentile([1.0, 2.0, 3.0, 4.0], 50)
2.5
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from yujing.native import running_native

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench" / "results"
SCHEMA_VERSION = 1

Status = Literal["ok", "not available", "error"]
Better = Literal["higher", "lower"]


@dataclass(frozen=True, slots=True)
class Options:
    """How a benchmark runs: ``quick`` picks small sizes (CI), ``reps`` repetitions, ``seed``."""

    quick: bool = False
    reps: int = 3
    seed: int = 7
    out: Path = RESULTS
    work: Path = Path("/tmp/yujing-bench")


@dataclass(frozen=True, slots=True)
class Spread:
    """Median of the samples, their extremes and count."""

    median: float
    low: float
    high: float
    n: int
    samples: tuple[float, ...] = ()

    @property
    def relative(self) -> float:
        """(high − low) / median: 0.05 means the repetitions lie within 5 % of each other."""
        return (self.high - self.low) / self.median if self.median else 0.0


def summarize(samples: Sequence[float]) -> Spread:
    values = [float(v) for v in samples]
    if not values:
        return Spread(float("nan"), float("nan"), float("nan"), 0)
    return Spread(statistics.median(values), min(values), max(values), len(values), tuple(values))


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0–100), linear between closest ranks; NaN when empty."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100.0
    lo = int(rank)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (rank - lo)


@dataclass(frozen=True, slots=True)
class Target:
    """``value`` must be reached by the figure (``better`` says in which direction)."""

    value: float
    on: Literal["figure", "ratio"] = "figure"
    text: str = ""


@dataclass(slots=True)
class Figure:
    """One row: what was measured, against which baseline, against which target."""

    metric: str
    unit: str
    value: Spread
    better: Better = "higher"
    baseline: Spread | None = None
    baseline_name: str = ""
    target: Target | None = None
    note: str = ""

    @property
    def ratio(self) -> float | None:
        """figure / baseline, medians (for a rate > 1 is faster; for a latency > 1 is slower)."""
        if self.baseline is None or not self.baseline.median:
            return None
        return self.value.median / self.baseline.median

    @property
    def met(self) -> bool | None:
        if self.target is None:
            return None
        got = self.ratio if self.target.on == "ratio" else self.value.median
        if got is None or got != got:  # NaN: nothing measured
            return False
        return got >= self.target.value if self.better == "higher" else got <= self.target.value

    def to_json(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "unit": self.unit,
            "median": self.value.median,
            "spread": _spread_json(self.value),
            "better": self.better,
            "baseline": None
            if self.baseline is None
            else {
                "name": self.baseline_name,
                "median": self.baseline.median,
                "spread": _spread_json(self.baseline),
            },
            "ratio": self.ratio,
            "target": None
            if self.target is None
            else {
                "value": self.target.value,
                "on": self.target.on,
                "text": self.target.text,
                "met": self.met,
            },
            "note": self.note,
        }


def _spread_json(s: Spread) -> dict[str, Any]:
    return {
        "min": s.low,
        "max": s.high,
        "n": s.n,
        "relative": s.relative,
        "samples": list(s.samples),
    }


@dataclass(slots=True)
class Result:
    """Everything one benchmark reports; ``status`` is "not available" when it could not run."""

    name: str
    title: str
    status: Status = "ok"
    figures: list[Figure] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    reason: str = ""


def machine() -> dict[str, Any]:
    """Cores, CPU model, memory, OS and Python of this machine, and whether the detectors ran
    compiled (:mod:`yujing.native`): the figures differ by a third."""
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        model = platform.processor()
    mem_kb = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    except OSError:
        pass
    return {
        "cores": os.cpu_count(),
        "cpu_model": model,
        "mem_total_gib": round(mem_kb / 2**20, 1),
        "os": platform.platform(),
        "python": platform.python_version(),
        "detectors": "compiled" if running_native() else "interpreted",
        "loadavg_1_5_15": [round(x, 2) for x in os.getloadavg()],
    }


def git_commit() -> dict[str, Any]:
    def run(*args: str) -> str:
        try:
            done = subprocess.run(
                ["git", *args], cwd=REPO, capture_output=True, text=True, timeout=10, check=False
            )
        except OSError:
            return ""
        return done.stdout.strip()

    return {"commit": run("rev-parse", "HEAD"), "dirty": bool(run("status", "--porcelain"))}


def write_result(result: Result, options: Options, started: float) -> Path:
    """Write ``<out>/<name>.json`` and return its path."""
    options.out.mkdir(parents=True, exist_ok=True)
    document = {
        "schema": SCHEMA_VERSION,
        "name": result.name,
        "title": result.title,
        "status": result.status,
        "reason": result.reason,
        "quick": options.quick,
        "repetitions": options.reps,
        "seed": options.seed,
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
        "duration_s": round(time.time() - started, 1),
        "machine": machine(),
        "git": git_commit(),
        "params": result.params,
        "figures": [f.to_json() for f in result.figures],
        "notes": result.notes,
    }
    path = options.out / f"{result.name}.json"
    path.write_text(json.dumps(document, indent=2, default=str) + "\n")
    return path


def load_results(folder: Path) -> list[dict[str, Any]]:
    docs = []
    for path in sorted(folder.glob("*.json")):
        try:
            doc = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if isinstance(doc, dict) and doc.get("schema") == SCHEMA_VERSION:
            docs.append(doc)
    return docs


def _num(x: float | None) -> str:
    if x is None or x != x:
        return "–"
    if abs(x) >= 100:
        return f"{x:,.0f}"
    if abs(x) >= 10:
        return f"{x:.1f}"
    return f"{x:.3g}"


def _cell(median: float | None, spread: dict[str, Any] | None) -> str:
    if spread is None or spread.get("n", 0) <= 1 or median is None or median != median:
        return _num(median)
    return f"{_num(median)} ({_num(spread['min'])}–{_num(spread['max'])})"


def summary_markdown(docs: Sequence[dict[str, Any]]) -> str:
    """The table of every figure of every result document."""
    lines = ["# yujing benchmarks", ""]
    if docs:
        m, g = docs[0]["machine"], docs[0]["git"]
        lines += [
            f"Machine: {m['cores']} cores, {m['cpu_model']}, {m['mem_total_gib']} GiB, "
            f"Python {m['python']}, detectors {m.get('detectors', 'interpreted')}. "
            f"Commit `{g['commit'][:10]}`{' (dirty)' if g['dirty'] else ''}."
            f" Mode: {'quick (sizes too small to judge targets)' if docs[0]['quick'] else 'full'}.",
            "",
            "Medians over repetitions, (min–max) in brackets; the baseline is measured in the same "
            "run on the same machine. Details and method: `docs/performance.md`.",
            "",
            "| benchmark | metric | yujing | baseline | ratio | target | met |",
            "|---|---|---|---|---|---|---|",
        ]
    for doc in docs:
        if doc["status"] != "ok":
            lines.append(f"| {doc['name']} | {doc['status']}: {doc['reason']} | | | | | |")
            continue
        for f in doc["figures"]:
            base = f["baseline"]
            target = f["target"]
            met = "" if target is None else ("met" if target["met"] else "**not met**")
            lines.append(
                f"| {doc['name']} | {f['metric']} [{f['unit']}] | {_cell(f['median'], f['spread'])}"
                f" | {'' if base is None else _cell(base['median'], base['spread'])}"
                f"{'' if base is None else ' ' + base['name']}"
                f" | {_num(f['ratio'])} | {'' if target is None else target['text']} | {met} |"
            )
    return "\n".join(lines) + "\n"


def write_summary(folder: Path) -> Path:
    path = folder / "SUMMARY.md"
    folder.mkdir(parents=True, exist_ok=True)
    path.write_text(summary_markdown(load_results(folder)))
    return path


def as_dict(obj: Any) -> dict[str, Any]:
    """A dataclass as a plain dict (for params)."""
    return asdict(obj)
