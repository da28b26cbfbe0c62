"""PNG plots of a replay: key stations' values with their ladder's thresholds and the alert
grade notified over time; and the tuning trade-off (POD vs FAR vs median lead time).

matplotlib with the Agg backend (files only, no display). Times on the x axis are hours from the
scenario start (or from the first message of a recording).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402

from yujing.config.ladders import RuleSpec  # noqa: E402
from yujing.contracts import AlertKey, Grade  # noqa: E402

__all__ = ["GRADE_COLOURS", "Series", "plot_station", "plot_tradeoff"]

GRADE_COLOURS: Mapping[Grade, str] = {
    Grade.NONE: "#ffffff",
    Grade.BLUE: "#3b7dd8",
    Grade.YELLOW: "#e8c51a",
    Grade.ORANGE: "#f08c00",
    Grade.RED: "#d62728",
    Grade.UNKNOWN: "#9e9e9e",
}
Series = tuple[Sequence[float], Sequence[float]]  # (epoch s, value)


def plot_station(
    path: Path,
    key: AlertKey,
    spec: RuleSpec,
    observed: Mapping[str, Series],
    truth: Mapping[str, Series],
    grades: Sequence[tuple[float, Grade]],
    origin: float,
    end: float,
) -> Path:
    """One station and rule: every quantity the ladder reads (observed solid, true dashed), each
    rung's threshold as a dotted line in its grade's colour, the notified grade as a band."""
    ladder = spec.ladder
    quantities = list(dict.fromkeys(ladder.quantity_of(r) for r in ladder.rungs))
    fig, axes = plt.subplots(
        len(quantities), 1, figsize=(9, 2.4 * len(quantities) + 0.6), sharex=True, squeeze=False
    )
    for ax, quantity in zip(axes[:, 0], quantities, strict=True):
        if quantity in observed:
            t, v = observed[quantity]
            ax.plot([(x - origin) / 3600 for x in t], v, lw=1.0, color="#222222", label="observed")
        if quantity in truth:
            t, v = truth[quantity]
            ax.plot(
                [(x - origin) / 3600 for x in t], v, lw=1.0, ls="--", color="#666666", label="true"
            )
        for rung in ladder.rungs:
            if ladder.quantity_of(rung) == quantity:
                ax.axhline(
                    rung.enter,
                    ls=":",
                    lw=1.2,
                    color=GRADE_COLOURS[rung.grade],
                    label=f"{rung.grade.value} ≥ {rung.enter:g}",
                )
        _bands(ax, grades, origin, end)
        ax.set_ylabel(quantity)
        ax.legend(loc="upper left", fontsize=7, ncol=3, frameon=False)
        ax.grid(alpha=0.3)
    axes[-1, 0].set_xlabel("hours from start")
    axes[0, 0].set_title(f"{key}  (band: grade notified)", fontsize=10)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def _bands(ax: Axes, grades: Sequence[tuple[float, Grade]], origin: float, end: float) -> None:
    for (start, grade), (stop, _) in zip(grades, [*grades[1:], (end, Grade.NONE)], strict=True):
        if grade.is_warning or grade is Grade.UNKNOWN:
            ax.axvspan(
                (start - origin) / 3600,
                (stop - origin) / 3600,
                alpha=0.18,
                color=GRADE_COLOURS[grade],
                lw=0,
            )


def plot_tradeoff(
    path: Path,
    pods: Sequence[float],
    fars: Sequence[float],
    leads: Sequence[float | None],
    labels: Sequence[str],
    front: Sequence[int],
    chosen: int | None = None,
) -> Path:
    """POD against FAR, colour = median lead time (s, the report's sign: negative = early);
    the Pareto front joined and ringed, the chosen point starred."""
    fig, ax = plt.subplots(figsize=(7.5, 5.5))
    colours = [lead if lead is not None else float("nan") for lead in leads]
    scatter = ax.scatter(fars, pods, c=colours, cmap="viridis_r", s=36, edgecolors="none")
    fig.colorbar(scatter, ax=ax, label="median lead time (s; < 0 = before the true crossing)")
    ordered = sorted(front, key=lambda i: fars[i])
    ax.plot(
        [fars[i] for i in ordered],
        [pods[i] for i in ordered],
        color="#d62728",
        lw=1.0,
        label="Pareto front",
    )
    ax.scatter(
        [fars[i] for i in front],
        [pods[i] for i in front],
        s=110,
        facecolors="none",
        edgecolors="#d62728",
        lw=1.2,
    )
    for i in front:
        ax.annotate(
            labels[i], (fars[i], pods[i]), fontsize=6, xytext=(4, 3), textcoords="offset points"
        )
    if chosen is not None:
        ax.scatter(
            [fars[chosen]],
            [pods[chosen]],
            marker="*",
            s=260,
            color="#d62728",
            label=f"chosen: {labels[chosen]}",
        )
    ax.set_xlabel("FAR (false alarm ratio)")
    ax.set_ylabel("POD (probability of detection)")
    ax.set_xlim(-0.03, 1.03)
    ax.set_ylim(-0.03, 1.03)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
