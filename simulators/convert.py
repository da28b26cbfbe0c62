"""Make recordings: from a scenario (what the simulator publishes) and from the real datasets in
``../shared/datasets`` (each with a registry YAML written next to it). A live broker is recorded
by :mod:`simulators.capture`.

Datasets (their ``PROVENANCE.md`` says where they come from; the choices made here):

``beijing-rain``
    UCI Beijing Multi-Site (CC BY 4.0), RAIN column, 2016-07-19 00:00 to 2016-07-21 23:00 Beijing
    time: the "7·20" storm. One rain gauge per *distinct* series (several sites share a
    meteorological station: 8 series from 12 sites), placed at the mean of its sites' approximate
    coordinates. Row "hour h" is taken as the rain of [h:00, h+1:00) (the dataset does not say)
    and reported at h+1:00 with ``seq`` = hours since the window start; missing hours (NA) are
    not sent (a gap, as a real outage would be).
``guadalupe-flood``
    USGS NWIS instantaneous values (public domain, provisional), gage height (00065, first
    sensor where a site has two), feet → metres, 2025-07-01 to 07-05 (CDT → UTC). Values flagged
    ``Fld``/``Eqp``/``Ice``/``***`` or empty are not sent (Hunt's gauge stops at 04:35 on
    4 July: the feed just ends). Station params: ``normal_level_m`` = the median before 4 July;
    ``warning``/``guaranteed``/``record`` = normal + 3 / 5 / 8 m: *project default* (NWS flood
    stages are not in the dataset).
``chilbolton-ch4``
    Controlled methane releases rel02–rel07 (CC-BY), open-path CH4 (ppm, path-averaged) on 7
    beams, each beam a ``gas`` station. ``ch4_pct_lel`` = ppm / 500 (1 %LEL of methane = 500
    ppm), floored at 0: the releases are ppm-scale, far below any alarm rung, so a replay of
    this recording is a false-alarm check on real sensor data. Times are BST (UTC+1).
"""

from __future__ import annotations

import csv
import io
import json
import lzma
import statistics
import tarfile
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

from simulators.district import write_specs
from simulators.generator import SensorSimulator
from simulators.network import BEIJING_SEATS
from simulators.recording import RecordedMessage, RecordingWriter
from simulators.scenario import load_scenario, scenario_registry
from yujing.config.stations import StationSpec
from yujing.contracts import ConfigError, Kind

__all__ = [
    "BEIJING_SITES",
    "CONVERTERS",
    "beijing_0720_series",
    "record_scenario",
    "write_dataset",
]

BEIJING = timezone(timedelta(hours=8))
CDT = timezone(timedelta(hours=-5))
BST = timezone(timedelta(hours=1))
# (series name, sites sharing it, approximate mean coordinates)
BEIJING_SITES: tuple[tuple[str, tuple[str, ...], float, float], ...] = (
    ("Aotizhongxin", ("Aotizhongxin", "Guanyuan"), 39.956, 116.368),
    ("Changping", ("Changping", "Dingling"), 40.255, 116.225),
    ("Dongsi", ("Dongsi", "Nongzhanguan", "Tiantan"), 39.917, 116.428),
    ("Gucheng", ("Gucheng",), 39.914, 116.184),
    ("Huairou", ("Huairou",), 40.328, 116.628),
    ("Shunyi", ("Shunyi",), 40.127, 116.655),
    ("Wanliu", ("Wanliu",), 39.987, 116.287),
    ("Wanshouxigong", ("Wanshouxigong",), 39.878, 116.352),
)
BEIJING_WINDOW = (datetime(2016, 7, 19, 0, tzinfo=BEIJING), 72)  # start, hours


def _registry_next_to(out: Path) -> Path:
    name = out.name
    for suffix in (".jsonl.gz", ".jsonl", ".parquet"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
    return out.with_name(f"{name}.stations.yaml")


def record_scenario(
    path: Path, out: Path, *, seed: int | None = None, start: float | None = None
) -> tuple[int, Path]:
    scenario = load_scenario(path)
    registry = scenario_registry(scenario)
    used_seed = seed if seed is not None else scenario.run_seed
    origin = start if start is not None else scenario.run_start
    simulator = SensorSimulator(registry, scenario, used_seed, origin)
    registry_path = write_specs(
        _registry_next_to(out), list(registry),
        f"# Stations of scenario {scenario.name} ({path.name}), for the recording {out.name}.\n",
    )  # fmt: skip
    header = {
        "source": f"scenario {scenario.name} seed {used_seed}",
        "registry": registry_path.name,
        "start": simulator.start,
        "end": simulator.end,
        "clock": "scenario",
    }
    with RecordingWriter(out, header) as writer:
        t = simulator.first_arrival
        while t < simulator.end:
            for message in simulator.deliveries(t, min(t + 600.0, simulator.end)):
                writer.write(RecordedMessage(message.arrival, message.topic, message.payload))
            t += 600.0
    return writer.count, registry_path


def _body(station: str, ts: datetime, seq: int, values: dict[str, float]) -> bytes:
    body = {"station": station, "ts": round(ts.timestamp() * 1000), "seq": seq,
            "values": values, "quality": "ok"}  # fmt: skip
    return json.dumps(body, separators=(",", ":")).encode()


def _nearest_district(lat: float, lon: float) -> str:
    return min(BEIJING_SEATS, key=lambda s: (s.lat - lat) ** 2 + (s.lon - lon) ** 2).name


def _beijing_hours(folder: Path, site: str) -> list[float | None]:
    start, hours = BEIJING_WINDOW
    matches = list(folder.glob(f"PRSA_Data_{site}_*.csv.xz"))
    if not matches:
        raise ConfigError(f"{folder}: no PRSA_Data_{site}_*.csv.xz")
    wanted = {(start + timedelta(hours=h)).replace(tzinfo=None): h for h in range(hours)}
    out: list[float | None] = [None] * hours
    with lzma.open(matches[0], "rt", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            moment = datetime(int(row["year"]), int(row["month"]), int(row["day"]),
                              int(row["hour"]))  # fmt: skip
            if moment in wanted and row["RAIN"] not in ("", "NA"):
                out[wanted[moment]] = float(row["RAIN"])
    return out


def beijing_0720_series(datasets: Path) -> dict[str, list[float | None]]:
    """Hourly rain (mm) of each distinct series over :data:`BEIJING_WINDOW`."""
    folder = datasets / "beijing_multisite_hourly_rain"
    series = {}
    for name, sites, _, _ in BEIJING_SITES:
        first = _beijing_hours(folder, sites[0])
        for other in sites[1:]:
            if _beijing_hours(folder, other) != first:
                raise ConfigError(f"{folder}: {other} differs from {sites[0]} in July 2016")
        series[name] = first
    return series


def convert_beijing_rain(datasets: Path, out: Path) -> tuple[int, Path]:
    start, hours = BEIJING_WINDOW
    series = beijing_0720_series(datasets)
    specs = []
    rows = []
    for name, _, lat, lon in BEIJING_SITES:
        station = f"BJ-{name}"
        district = _nearest_district(lat, lon)
        specs.append(StationSpec(station, f"{name} (UCI Beijing multi-site)", Kind.RAIN,
                                 district, lat, lon, 3600.0, area=f"{district}-rain"))  # fmt: skip
        for hour, mm in enumerate(series[name]):
            if mm is None:
                continue
            ts = start + timedelta(hours=hour + 1)
            topic = f"yujing/v1/{district}/rain/{station}"
            rows.append(RecordedMessage(ts.timestamp(), topic,
                                        _body(station, ts, hour, {"rain_mm": mm})))  # fmt: skip
    return write_dataset(out, specs, rows, "beijing_multisite_hourly_rain, 2016-07-19..21")


def _rdb_blocks(text: str) -> Iterator[tuple[list[str], list[list[str]]]]:
    header: list[str] | None = None
    rows: list[list[str]] = []
    for line in text.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        cells = line.split("\t")
        if cells[0] == "agency_cd":
            if header is not None:
                yield header, rows
            header, rows = cells, []
        elif header is not None and cells[0] != "5s":  # "5s 15s 20d ...": the format line
            rows.append(cells)
    if header is not None:
        yield header, rows


def convert_guadalupe(datasets: Path, out: Path) -> tuple[int, Path]:
    folder = datasets / "usgs_guadalupe_flood_2025"
    sites = {}
    with (folder / "sites_metadata.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            sites[row["site_number"]] = (row["site_name"], float(row["latitude"]),
                                         float(row["longitude"]))  # fmt: skip
    text = (folder / "USGS_stream_guadalupe.txt").read_text(encoding="utf-8")
    flood_day = datetime(2025, 7, 4, tzinfo=CDT)
    specs, rows = [], []
    for header, block in _rdb_blocks(text):
        gauge = next((i for i, h in enumerate(header) if h.endswith("_00065")), None)
        if gauge is None or not block:
            continue
        site = block[0][1]
        name, lat, lon = sites.get(site, (site, 0.0, 0.0))
        points = []
        for cells in block:
            if len(cells) <= gauge or cells[3] not in ("CDT", "CST"):
                continue
            try:
                feet = float(cells[gauge])
            except ValueError:
                continue  # Fld, Eqp, Ice, ***, empty
            moment = datetime.strptime(cells[2], "%Y-%m-%d %H:%M").replace(tzinfo=CDT)
            points.append((moment, round(feet * 0.3048, 3)))
        before = [m for t, m in points if t < flood_day]
        if not points or not before:
            continue
        normal = round(statistics.median(before), 2)
        step = min(b[0] - a[0] for a, b in zip(points, points[1:], strict=False)) if len(
            points) > 1 else timedelta(minutes=15)  # fmt: skip
        station = f"USGS-{site}"
        specs.append(StationSpec(
            station, name, Kind.WATER_LEVEL, "guadalupe", lat, lon,
            max(60.0, step.total_seconds()), area="guadalupe",
            params={"normal_level_m": normal, "warning_level_m": normal + 3.0,
                    "guaranteed_level_m": normal + 5.0, "record_level_m": normal + 8.0},
        ))  # fmt: skip
        for seq, (moment, metres) in enumerate(points):
            rows.append(RecordedMessage(
                moment.timestamp(), f"yujing/v1/guadalupe/water_level/{station}",
                _body(station, moment, seq, {"level_m": metres}),
            ))  # fmt: skip
    rows.sort(key=lambda r: r.arrival)
    return write_dataset(out, specs, rows, "usgs_guadalupe_flood_2025, gage height")


def convert_chilbolton(datasets: Path, out: Path) -> tuple[int, Path]:
    folder = datasets / "chilbolton_ch4_release"
    beams: dict[str, list[tuple[datetime, float]]] = {}
    for archive in sorted(folder.glob("chilbolton_raw_*.tar.xz")):
        with tarfile.open(archive, "r:xz") as tar:
            for member in tar.getmembers():
                if not member.name.endswith("_processed.txt") or "/rel01/" in member.name:
                    continue
                handle = tar.extractfile(member)
                if handle is None:
                    continue
                beam = member.name.rsplit("/", 1)[1].split("_", 1)[0]
                beams.setdefault(beam, []).extend(_lds(io.TextIOWrapper(handle, "latin-1")))
    specs, rows = [], []
    for index, (beam, points) in enumerate(sorted(beams.items())):
        points.sort()
        station = f"CHB-{beam}"
        steps = [(b[0] - a[0]).total_seconds() for a, b in zip(points, points[1:], strict=False)]
        interval = statistics.median([s for s in steps if s > 0] or [5.0])
        specs.append(StationSpec(station, f"Chilbolton open-path beam {beam}", Kind.GAS,
                                 "chilbolton", 51.1445 + 0.0002 * index, -1.4370, interval,
                                 area="chilbolton"))  # fmt: skip
        for seq, (moment, ppm) in enumerate(points):
            value = round(max(ppm, 0.0) / 500.0, 4)
            rows.append(RecordedMessage(
                moment.timestamp(), f"yujing/v1/chilbolton/gas/{station}",
                _body(station, moment, seq, {"ch4_pct_lel": value}),
            ))  # fmt: skip
    rows.sort(key=lambda r: r.arrival)
    return write_dataset(out, specs, rows, "chilbolton_ch4_release rel02-rel07")


def _lds(handle: io.TextIOWrapper) -> list[tuple[datetime, float]]:
    lines = handle.read().splitlines()
    start = datetime.strptime(" ".join(lines[3].split()).replace(": ", ":0"),
                              "%m/%d/%Y %H:%M:%S.%f").replace(tzinfo=BST)  # fmt: skip
    names = lines[13].split()
    column = names.index("CH4vmr_ppmv")
    out = []
    for line in lines[14:]:
        cells = line.split()
        if len(cells) < len(names):
            continue
        try:
            out.append((start + timedelta(seconds=float(cells[0])), float(cells[column])))
        except ValueError:
            continue
    return out


def write_dataset(
    out: Path, specs: list[StationSpec], rows: list[RecordedMessage], what: str
) -> tuple[int, Path]:
    """The recording ``out`` (rows in arrival order) and its registry next to it."""
    registry = write_specs(
        _registry_next_to(out), specs,
        f"# Stations of the recording {out.name}, converted from ../shared/datasets/{what}.\n",
    )  # fmt: skip
    header = {"source": f"dataset {what}", "registry": registry.name, "clock": "event",
              "converted": datetime.now(UTC).isoformat(timespec="seconds")}  # fmt: skip
    with RecordingWriter(out, header) as writer:
        for row in rows:
            writer.write(row)
    return writer.count, registry


Converter = Callable[[Path, Path], tuple[int, Path]]


def _seismic(name: str) -> Converter:
    """A converter of :mod:`simulators.convert_seismic`, imported when used (it builds on
    :func:`write_dataset`)."""

    def convert(datasets: Path, out: Path) -> tuple[int, Path]:
        from simulators import convert_seismic

        converter: Converter = getattr(convert_seismic, name)
        return converter(datasets, out)

    return convert


CONVERTERS: dict[str, Converter] = {
    "beijing-rain": convert_beijing_rain,
    "guadalupe-flood": convert_guadalupe,
    "chilbolton-ch4": convert_chilbolton,
    "obspy-uh": _seismic("convert_obspy_uh"),
    "phasenet-ncedc": _seismic("convert_phasenet"),
}
