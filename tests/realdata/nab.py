"""NAB scoring (Lavin & Ahmad 2015; rules as ``nab/PROVENANCE.md`` states them), written here from
that description: windows, probation, scaled-sigmoid weights, exhaustive threshold sweep.

Used by ``test_anomaly_nab.py``, the benchmark and ``docs/validation.md``. Not a copy of NAB's
code: NAB's scorer is not called or vendored; the provenance file's rule text is the spec.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

__all__ = ["NabFile", "PROFILES", "load_corpus", "normalised", "score_file", "sweep"]

PROFILES = {
    "standard": (1.0, 1.0, 0.11),  # tp, fn, fp weights
    "reward_low_FP_rate": (1.0, 1.0, 0.22),
    "reward_low_FN_rate": (1.0, 2.0, 0.11),
}
CATEGORIES = ("artificialNoAnomaly", "artificialWithAnomaly", "realAWSCloudwatch")


def _s(x: float) -> float:
    """NAB's scaled sigmoid: 2/(1+exp(5x)) - 1, and -1 beyond 3."""
    return -1.0 if x > 3.0 else 2.0 / (1.0 + math.exp(5.0 * x)) - 1.0


def _epoch(text: str) -> float:
    text = text.split(".")[0]
    return datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC).timestamp()


@dataclass(frozen=True, slots=True)
class NabFile:
    name: str
    ts: tuple[float, ...]
    values: tuple[float, ...]
    windows: tuple[tuple[int, int], ...]  # inclusive row indices

    @property
    def probation(self) -> int:
        return min(math.floor(0.15 * len(self.ts)), 750)


def load_corpus(root: Path) -> list[NabFile]:
    """The 28 files of the three categories, with their windows as row indices."""
    windows = json.loads((root / "labels" / "combined_windows.json").read_text())
    out = []
    for category in CATEGORIES:
        for path in sorted((root / "data" / category).glob("*.csv")):
            with path.open(newline="") as handle:
                rows = list(csv.DictReader(handle))
            ts = tuple(_epoch(r["timestamp"]) for r in rows)
            index = {t: i for i, t in enumerate(ts)}
            name = f"{category}/{path.name}"
            spans = tuple((index[_epoch(a)], index[_epoch(b)]) for a, b in windows.get(name, []))
            out.append(NabFile(name, ts, tuple(float(r["value"]) for r in rows), spans))
    return out


def score_file(
    nab: NabFile, detections: Iterable[int], profile: str = "standard"
) -> tuple[float, int, int]:
    """(raw score, windows hit, FP rows) of detection row indices for one file."""
    tp_w, fn_w, fp_w = PROFILES[profile]
    rows = sorted(i for i in set(detections) if i >= nab.probation)
    score = 0.0
    hit = 0
    fp_rows = 0
    best: dict[int, float] = {}
    for i in rows:
        inside = next((k for k, (lo, hi) in enumerate(nab.windows) if lo <= i <= hi), None)
        if inside is not None:
            lo, hi = nab.windows[inside]
            width = hi - lo + 1
            value = tp_w * _s(-(hi - i + 1) / width) / _s(-1.0)
            best[inside] = max(best.get(inside, -math.inf), value)
            continue
        fp_rows += 1
        before = [k for k, (lo, hi) in enumerate(nab.windows) if hi < i]
        if not before:
            score -= fp_w
            continue
        lo, hi = nab.windows[before[-1]]
        width = hi - lo + 1
        score += fp_w * _s(abs(i - hi) / (width - 1))
    for k in range(len(nab.windows)):
        if k in best:
            score += best[k]
            hit += 1
        else:
            score -= fn_w
    return score, hit, fp_rows


def normalised(raw: float, n_windows: int, profile: str = "standard") -> float:
    tp_w, fn_w, _ = PROFILES[profile]
    perfect, null = tp_w * n_windows, -fn_w * n_windows
    return 100.0 * (raw - null) / (perfect - null)


def sweep(
    corpus: Sequence[NabFile],
    detections_at: Callable[[NabFile, float], list[int]],
    thresholds: Iterable[float],
    profile: str = "standard",
) -> tuple[float, float, int, int]:
    """Best (normalised score, threshold, windows hit, FP rows) over ``thresholds`` (ties go to
    the higher threshold), detections for a file at a threshold given by ``detections_at``."""
    n_windows = sum(len(f.windows) for f in corpus)
    best = (-math.inf, math.nan, 0, 0)
    for threshold in sorted(set(thresholds), reverse=True):
        raw, hit, fp = 0.0, 0, 0
        for nab in corpus:
            s, h, f = score_file(nab, detections_at(nab, threshold), profile)
            raw, hit, fp = raw + s, hit + h, fp + f
        value = normalised(raw, n_windows, profile)
        if value > best[0]:
            best = (value, threshold, hit, fp)
    return best
