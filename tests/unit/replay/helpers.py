"""A small world for replay tests: nine demo stations, a scenario with a gas leak, an ammonia
plume from a runaway tank, a ponding underpass and rain, and faults on three stations."""

from __future__ import annotations

from pathlib import Path

from simulators import demo_registry
from simulators.district import write_specs
from simulators.network import merge_registries
from yujing.config import Settings, load_settings

REPO = Path(__file__).resolve().parents[3]
START = 1_784_613_600.0  # 2026-07-21T06:00:00Z
STATIONS = (
    "CY-GS-005", "CY-GS-006", "CY-GS-007", "CY-CH-001", "CY-CH-002", "CY-CH-003", "CY-CH-005",
    "HD-PD-011", "HD-RN-023", "HD-RN-028",
)  # fmt: skip

SCENARIO = """\
name: small
seed: 11
start: "2026-07-21T06:00:00Z"
duration_s: {duration}
network: {{registry: stations.yaml}}
lead_in_s: {{rain: 1800}}
storms:
  - id: cell
    cells:
      - {{lat: 39.975, lon: 116.30, sigma_km: 4.5,
          intensity_mm_h: [[-1800, 0], [0, 40], [600, 140], [1500, 150], [2400, 0]]}}
profiles:
  - id: leak
    hazard: gas_leak
    quantity: ch4_pct_lel
    added: [[60, 0], [240, 30], [480, 60], [900, 62], [1200, 0]]
    stations: [{{station: CY-GS-006}}, {{station: CY-GS-005, factor: 0.35, delay_s: 30}}]
  - id: underpass
    hazard: ponding
    quantity: depth_cm
    added: [[0, 0], [300, 20], [600, 40], [1200, 0]]
    stations: [{{station: HD-PD-011}}]
runaways:
  - {{id: r5, station: CY-CH-005, onset_s: 30, heat_rate_k_min: 1.5, relief_kpa: 1600}}
leaks:
  - {{id: vent, hazard: toxic_gas, quantity: nh3_ppm, at_station: CY-CH-005, height_m: 3,
      after_relief_of: r5, rate_g_s: [[0, 0], [60, 150], [900, 150], [960, 0]],
      wind: {{speed_m_s: 2, from_deg: 80}}, radius_m: 300}}
faults:
{faults}
"""
FAULTS = """\
  - {type: duplicate, station: CY-GS-005, from_s: 100, to_s: 400}
  - {type: reorder, station: HD-RN-028, from_s: 0, to_s: 900, value: 240}
  - {type: buffered_upload, station: HD-RN-023, from_s: 300, to_s: 700}
  - {type: clock_skew, station: CY-CH-003, from_s: 0, to_s: 600, value: 400}
  - {type: spike, station: CY-GS-007, at_s: [200], value: 70}
"""


def write_world(folder: Path, *, duration: float = 1500.0, faults: str = FAULTS) -> Path:
    """The registry and scenario in ``folder``; returns the scenario path."""
    subset = merge_registries([s for s in demo_registry() if s.id in STATIONS])
    write_specs(folder / "stations.yaml", list(subset), "# test\n")
    path = folder / "small.yaml"
    path.write_text(SCENARIO.format(duration=duration, faults=faults or "  []"))
    return path


def replay_settings(folder: Path) -> Settings:
    """configs/scenarios/replay.yaml with the test registry (roster and officer channels)."""
    text = (REPO / "configs" / "scenarios" / "replay.yaml").read_text()
    base = REPO / "configs"
    text = text.replace("../demo/stations.yaml", str(folder / "stations.yaml"))
    text = text.replace("../ladders", str(base / "ladders")).replace(
        "../quantities.yaml", str(base / "quantities.yaml")
    )
    text = text.replace("../roster.yaml", str(base / "roster.yaml"))
    text = text.replace("../../var/replay", str(folder / "var"))
    path = folder / "replay.yaml"
    path.write_text(text)
    return load_settings(path)
