"""What a replay writes: the notice timeline (JSON Lines and CSV), the skill table (JSON and
text), and one self-contained HTML page (plots embedded) that opens in any browser."""

from __future__ import annotations

import base64
import csv
import html
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from yujing.replay.recorder import NoticeRecord
from yujing.replay.skill import SkillReport

__all__ = ["format_skill", "format_timeline", "write_html", "write_timeline"]

TIMELINE_ROWS_IN_HTML = 2000


def _who(record: NoticeRecord) -> str:
    officers = record.officers
    if officers:
        return ", ".join(officers)
    if record.suppressed:
        return "(" + ", ".join(sorted({s.reason.value for s in record.suppressed})) + ")"
    return "-"


def _clock(seconds: float) -> str:
    sign = "-" if seconds < 0 else "+"
    seconds = abs(seconds)
    return f"{sign}{int(seconds // 3600):02d}:{int(seconds % 3600 // 60):02d}:{seconds % 60:06.3f}"


def write_timeline(folder: Path, records: Sequence[NoticeRecord], origin: float) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "timeline.jsonl").open("w", encoding="utf-8") as out:
        for record in records:
            row = record.to_json()
            row["t_from_start_s"] = round(record.sent - origin, 3)
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    with (folder / "timeline.csv").open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(
            [
                "t_from_start",
                "sent_epoch_s",
                "key",
                "version",
                "reason",
                "grade",
                "previous",
                "district",
                "officers",
                "channels",
                "held_back",
                "message",
            ]
        )
        for record in records:
            n = record.notice
            writer.writerow([
                _clock(record.sent - origin), f"{record.sent:.3f}", str(n.key), n.version,
                n.reason.value, n.grade.value, n.previous_grade.value, n.district,
                " ".join(record.officers), " ".join(record.channels),
                " ".join(sorted({s.reason.value for s in record.suppressed})), n.message,
            ])  # fmt: skip


def format_timeline(records: Sequence[NoticeRecord], origin: float, limit: int = 60) -> str:
    lines = [f"{'t (from start)':>16}  {'alert':<46} {'v':>3} {'reason':<12} {'grade':<7} who"]
    for record in records[:limit]:
        n = record.notice
        lines.append(
            f"{_clock(record.sent - origin):>16}  {str(n.key):<46} {n.version:>3} "
            f"{n.reason.value:<12} {n.grade.value:<7} {_who(record)} "
            f"[{', '.join(record.channels) or '-'}]"
        )
    if len(records) > limit:
        lines.append(f"... {len(records) - limit} more (timeline.csv / timeline.jsonl)")
    return "\n".join(lines)


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:+.0f}"


def format_skill(report: SkillReport) -> str:
    lines = [
        f"{'hazard':<12} {'grade':<7} {'hits':>5} {'miss':>5} {'FA':>4} {'POD':>5} {'FAR':>5} "
        f"{'CSI':>5} {'lead med':>9} {'lead p10..p90':>15} {'reach med':>10}"
    ]
    for row in report.rows:
        data = row.to_json()
        lead, reach = data["lead_time_s"], data["reach_officer_s"]
        lines.append(
            f"{row.hazard.value:<12} {row.grade.value:<7} {row.hits:>5} {row.misses:>5} "
            f"{row.false_alarms:>4} {_pct(row.pod):>5} {_pct(row.far):>5} {_pct(row.csi):>5} "
            f"{_seconds(lead['median']):>9} "
            f"{_seconds(lead['p10']) + '..' + _seconds(lead['p90']):>15} "
            f"{_seconds(reach['median']):>10}"
        )
    lines.append(
        "lead = warning time - true crossing time (s; negative = warned before the crossing); "
        "reach = first officer delivery - true crossing"
    )
    return "\n".join(lines)


def _table(head: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    cells = "".join(f"<th>{html.escape(str(h))}</th>" for h in head)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in rows
    )
    return f"<table><thead><tr>{cells}</tr></thead><tbody>{body}</tbody></table>"


_STYLE = """
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222;max-width:1200px}
table{border-collapse:collapse;margin:8px 0 20px;font-size:12px}
td,th{border:1px solid #ccc;padding:3px 6px;text-align:right}
th{background:#f3f3f3} td:nth-child(-n+3){text-align:left}
.g-blue{background:#dbe8fa}.g-yellow{background:#fbf3c8}.g-orange{background:#fde3bf}
.g-red{background:#f8cfcf} img{max-width:100%;border:1px solid #ddd;margin:6px 0}
code{background:#f3f3f3;padding:0 3px}
"""


def write_html(
    path: Path,
    *,
    title: str,
    meta: Mapping[str, Any],
    stats: Mapping[str, Any],
    skill: SkillReport | None,
    records: Sequence[NoticeRecord],
    origin: float,
    plots: Sequence[Path],
) -> Path:
    parts = [
        f"<!doctype html><meta charset='utf-8'><title>{html.escape(title)}</title>",
        f"<style>{_STYLE}</style><h1>{html.escape(title)}</h1>",
    ]
    parts.append(_table(["", ""], [(k, v) for k, v in {**meta, **stats}.items()]))
    if skill is not None:
        parts.append("<h2>Skill against the ground truth</h2>")
        rows = []
        for row in skill.rows:
            data = row.to_json()
            rows.append((
                row.hazard.value, row.grade.value, row.hits, row.misses, row.false_alarms,
                _pct(row.pod), _pct(row.far), _pct(row.csi),
                _seconds(data["lead_time_s"]["median"]), _seconds(data["lead_time_s"]["p10"]),
                _seconds(data["lead_time_s"]["p90"]), _seconds(data["reach_officer_s"]["median"]),
                data["officer_reached"],
            ))  # fmt: skip
        parts.append(_table(
            ["hazard", "grade", "hits", "misses", "false alarms", "POD", "FAR", "CSI",
             "lead median s", "lead p10", "lead p90", "reach officer median s", "reached"],
            rows,
        ))  # fmt: skip
        parts.append(
            "<p>Lead time = warning time − time the true hazard crossed the grade (negative: "
            "the warning came first). Reach = first delivery to an officer − true crossing. "
            "Tolerances (s): " + html.escape(json.dumps(
                {h.value: t for h, t in skill.tolerance_s.items()})) + ". Rules: "
            "<code>docs/replay.md</code>.</p>"
        )  # fmt: skip
        missed = [m for m in skill.matches if not m.is_hit]
        if missed:
            parts.append("<h3>Misses</h3>" + _table(
                ["alert", "grade", "true crossing"],
                [(str(m.truth.key), m.truth.grade.value, _clock(m.truth.start - origin))
                 for m in missed[:300]],
            ))  # fmt: skip
        if skill.false_alarms:
            parts.append("<h3>False alarms</h3>" + _table(
                ["alert", "grade", "from", "to"],
                [(str(w.key), w.grade.value, _clock(w.start - origin), _clock(w.end - origin))
                 for w in skill.false_alarms[:300]],
            ))  # fmt: skip
    if plots:
        parts.append("<h2>Key stations</h2>")
        for plot in plots:
            png = base64.b64encode(plot.read_bytes()).decode("ascii")
            parts.append(f"<img alt='{html.escape(plot.stem)}' src='data:image/png;base64,{png}'>")
    parts.append(f"<h2>Timeline ({len(records)} notices)</h2><table><thead><tr>")
    parts.append(
        "".join(
            f"<th>{h}</th>"
            for h in ("t from start", "alert", "v", "reason", "grade", "who", "channels")
        )
    )
    parts.append("</tr></thead><tbody>")
    for record in records[:TIMELINE_ROWS_IN_HTML]:
        n = record.notice
        cells = (
            _clock(record.sent - origin),
            str(n.key),
            n.version,
            n.reason.value,
            n.grade.value,
            _who(record),
            ", ".join(record.channels),
        )
        parts.append(
            f"<tr class='g-{n.grade.value}'>"
            + "".join(f"<td>{html.escape(str(c))}</td>" for c in cells)
            + "</tr>"
        )
    parts.append("</tbody></table>")
    if len(records) > TIMELINE_ROWS_IN_HTML:
        parts.append(f"<p>... {len(records) - TIMELINE_ROWS_IN_HTML} more in timeline.csv</p>")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(parts), encoding="utf-8")
    return path
