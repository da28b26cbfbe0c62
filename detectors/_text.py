"""Short human text for findings: quantity labels, units and the one message format.

>>> reached("rain_3h_mm", 62.0, 50.0, Grade.ORANGE, Grade.YELLOW)
'3 h rain 62.0 mm ≥ 50 mm (orange)'
>>> reached("rain_12h_mm", 52.25, 50.0, Grade.BLUE, Grade.ORANGE)
'12 h rain 52.2 mm ≥ 50 mm (blue, down from orange)'
>>> cleared("nh3_ppm", 3.25, 21.0, 2.0, 300.0, Grade.BLUE)
'NH3 3.25 ppm < 19 ppm for 300 s (none, was blue)'
>>> cleared("ch4_pct_lel", 0.0, None, 0.0, 0.0, Grade.UNKNOWN)
'CH4 0.0 %LEL below every rung (none)'
"""

from __future__ import annotations

import re

from yujing.contracts import Grade

# quantity -> (label, unit, decimals); units go in the quantity's name (DESIGN §3)
_KNOWN: dict[str, tuple[str, str, int]] = {
    "level_m": ("water level", "m", 2),
    "depth_cm": ("ponding depth", "cm", 1),
    "ch4_pct_lel": ("CH4", "%LEL", 1),
    "nh3_ppm": ("NH3", "ppm", 3),
    "cl2_ppm": ("Cl2", "ppm", 3),
    "h2s_ppm": ("H2S", "ppm", 3),
    "pressure_kpa": ("pressure", "kPa", 1),
    "temp_c": ("temperature", "°C", 1),
    "intensity": ("intensity", "", 1),
    "sta_lta": ("STA/LTA", "", 2),
    "level_rise_m_per_h": ("water level rise", "m/h", 2),
    "level_ahead_m": ("projected water level", "m", 2),
    "depth_rise_cm_per_h": ("ponding rise", "cm/h", 1),
    "ch4_rise_pct_lel_per_min": ("CH4 rise", "%LEL/min", 1),
    "temp_rise_c_per_min": ("temperature rise", "°C/min", 2),
    "pressure_rise_kpa_per_min": ("pressure rise", "kPa/min", 1),
    "runaway_c_per_min": ("runaway temperature rise", "°C/min", 2),
}
_SUFFIX_UNITS = (
    ("_pct_lel", "%LEL"),
    ("_ppm", "ppm"),
    ("_kpa", "kPa"),
    ("_mm", "mm"),
    ("_cm", "cm"),
    ("_m", "m"),
    ("_c", "°C"),
)
_RAIN = re.compile(r"^rain_(\d+)h_mm$")


def describe(quantity: str) -> tuple[str, str, int]:
    """(label, unit, decimals) for a quantity name; unknown names keep their name as label."""
    known = _KNOWN.get(quantity)
    if known is not None:
        return known
    rain = _RAIN.match(quantity)
    if rain:
        return (f"{rain.group(1)} h rain", "mm", 1)
    for suffix, unit in _SUFFIX_UNITS:
        if quantity.endswith(suffix):
            return (quantity, unit, 2)
    return (quantity, "", 2)


def _number(value: float, decimals: int) -> str:
    if decimals >= 3:  # small concentrations: significant figures, not fixed decimals
        return f"{value:.{decimals}g}"
    return f"{value:.{decimals}f}"


def amount(quantity: str, value: float | None) -> str:
    """``'3 h rain 62.0 mm'``; ``'n/a'`` for a missing value."""
    label, unit, decimals = describe(quantity)
    shown = "n/a" if value is None else _number(value, decimals)
    return f"{label} {shown} {unit}".rstrip()


def _edge(quantity: str, edge: float) -> str:
    unit = describe(quantity)[1]
    return f"{edge:g} {unit}".rstrip()


def reached(quantity: str, value: float | None, enter: float, grade: Grade, previous: Grade) -> str:
    """A grade entered (from below, or down from a higher one)."""
    text = f"{amount(quantity, value)} ≥ {_edge(quantity, enter)} ({grade.value}"
    if previous.is_warning and previous.rank > grade.rank:
        text += f", down from {previous.value}"
    return text + ")"


def cleared(
    quantity: str,
    value: float | None,
    enter: float | None,
    hysteresis: float,
    dwell_s: float,
    previous: Grade,
) -> str:
    """Back to ``none``: from a warning after its dwell, or first evaluation below every rung."""
    if enter is None or not previous.is_warning:
        return f"{amount(quantity, value)} below every rung (none)"
    edge = _edge(quantity, enter - hysteresis)
    return f"{amount(quantity, value)} < {edge} for {dwell_s:g} s (none, was {previous.value})"


def silent(silent_for_s: float, limit_s: float, grade: Grade) -> str:
    """No data for too long."""
    return f"no data for {silent_for_s:.0f} s (limit {limit_s:g} s; {grade.value})"
