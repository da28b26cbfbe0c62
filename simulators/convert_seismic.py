"""Recordings of the real seismic datasets in ``../shared/datasets``, to replay real waveforms
through the production pipeline (each with a registry YAML written next to it).

``obspy-uh``
    The BW UH network of ObsPy's test data (``obspy_seismic``, LGPL-3.0): UH1, UH2 (SHZ,
    50 Hz), UH3 (SHZ, SHN, SHE, 50 Hz) and UH4 (EHZ, 100 Hz), 230 s from
    2010-05-27T16:24:03.68 UTC with three local events (ObsPy's coincidence test: first onsets
    16:24:31–35, 16:26:59–27:03, 16:27:27–33). The four stations form one network (``area``
    ``bw-uh``, district ``unterhaching``). The dataset gives no coordinates: the stations sit at
    nominal points 1 km apart near Unterhaching (48.06 N, 11.63 E), so an event's located
    epicentre means nothing; its onsets and stations do.
``phasenet-ncedc``
    The 70 analyst-picked NCEDC windows of the PhaseNet demo set (``phasenet_ncedc``, MIT;
    NCEDC data, doi:10.7932/NCEDC), 90 s at 100 Hz each, P at 30 s. The windows come from
    different events and decades; each becomes a station of its own (``PN<i>.<NET>.<STA>``,
    upstream ``waveform.csv`` order, the file name as its name, the analyst picks as params
    ``p_pick_s``/``s_pick_s``, seconds after the window's first sample) and a network and
    district of its own (``area`` = ``district`` = the station id), so unrelated windows never
    coincide: with the shipped 3-station coincidence nothing is declared, and with a
    ``coincidence_k`` of 1 each window's first trigger is its own earthquake event. All windows
    start at 2020-01-01T00:00:00Z (their own times are in their names), at a nominal point
    (38.5 N, 122.5 W; coordinates are not in the dataset). Zero-padded channels (the
    single-channel files) are not sent.

Common choices: samples are the datasets' counts × :data:`COUNTS_SCALE` (1e-5), a nominal scale
that keeps them inside the wire's ±100 m/s² range; they are **not** acceleration (no instrument
response is given), so the stations get the ``trigger`` rule only (STA/LTA is a ratio and does
not depend on the scale), not ``intensity``. Packets of 1 s per channel; ``t0`` (= ``ts``) in
epoch ms; a packet arrives when its last sample is taken; ``seq`` counts the station's packets
over all its channels.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import tarfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from ingest import reading_topic
from simulators.convert import write_dataset
from simulators.noise import FloatArray
from simulators.recording import RecordedMessage
from yujing.config.stations import StationSpec
from yujing.contracts import Kind

__all__ = ["COUNTS_SCALE", "convert_obspy_uh", "convert_phasenet"]

COUNTS_SCALE = 1e-5
PACKET_S = 1.0
PREFIX = "yujing/v1"
OBSPY = Path("obspy_seismic") / "signal_tests_data"
UH_FILES = (
    "BW.UH1._.SHZ.D.2010.147.cut.slist.gz",
    "BW.UH2._.SHZ.D.2010.147.cut.slist.gz",
    "BW.UH3._.SHZ.D.2010.147.cut.slist.gz",
    "BW.UH3._.SHN.D.2010.147.cut.slist.gz",
    "BW.UH3._.SHE.D.2010.147.cut.slist.gz",
    "BW.UH4._.EHZ.D.2010.147.cut.slist.gz",
)
UH_CENTRE = (48.06, 11.63)
PHASENET = Path("phasenet_ncedc")
PHASENET_START = datetime(2020, 1, 1, tzinfo=UTC).timestamp()
PHASENET_SR_HZ = 100.0
NCEDC_POINT = (38.5, -122.5)


@dataclass(frozen=True, slots=True)
class Trace:
    """One channel: counts at ``sr_hz`` from epoch ``t0``."""

    station: str
    channel: str
    sr_hz: float
    t0: float
    counts: FloatArray


def read_slist(path: Path) -> Trace:
    """ObsPy SLIST ASCII (gzipped): a ``TIMESERIES NET_STA_LOC_CHA_Q, n samples, sr sps, start,
    SLIST, INTEGER, Counts`` header line, then the samples."""
    with gzip.open(path, "rt") as handle:
        header = handle.readline().split(",")
        counts = np.array(handle.read().split(), dtype=np.float64)
    code = header[0].split()[1].split("_")  # e.g. BW_UH1__SHZ_D
    start = datetime.strptime(header[3].strip(), "%Y-%m-%dT%H:%M:%S.%f").replace(tzinfo=UTC)
    return Trace(code[1], code[3], float(header[2].split()[0]), start.timestamp(), counts)


def packets(district: str, traces: Sequence[Trace]) -> list[RecordedMessage]:
    """One station's channels as 1 s packets, in arrival order; ``seq`` over all channels."""
    cut: list[tuple[float, int, float, FloatArray]] = []  # arrival, channel, first sample time
    for channel, trace in enumerate(traces):
        size = round(PACKET_S * trace.sr_hz)
        for start in range(0, trace.counts.size, size):
            chunk = trace.counts[start : start + size] * COUNTS_SCALE
            first = trace.t0 + start / trace.sr_hz
            cut.append((first + chunk.size / trace.sr_hz, channel, first, chunk))
    cut.sort(key=lambda c: (c[0], c[1]))
    out = []
    for seq, (arrival, channel, first, chunk) in enumerate(cut):
        trace = traces[channel]
        t0_ms = round(first * 1000)
        body = {"station": trace.station, "ts": t0_ms, "seq": seq, "channel": trace.channel,
                "sr": trace.sr_hz, "t0": t0_ms, "samples": chunk.tolist()}  # fmt: skip
        topic = reading_topic(PREFIX, district, Kind.SEISMIC, trace.station)
        out.append(
            RecordedMessage(arrival, topic, json.dumps(body, separators=(",", ":")).encode())
        )
    return out


def convert_obspy_uh(datasets: Path, out: Path) -> tuple[int, Path]:
    traces = [read_slist(datasets / OBSPY / name) for name in UH_FILES]
    district = "unterhaching"
    stations = list(dict.fromkeys(t.station for t in traces))
    specs = [
        StationSpec(
            station,
            f"BW.{station} (nominal position)",
            Kind.SEISMIC,
            district,
            UH_CENTRE[0] + 0.009 * (i // 2),
            UH_CENTRE[1] + 0.0135 * (i % 2),
            PACKET_S,
            area="bw-uh",
            rules=("trigger",),
        )  # fmt: skip
        for i, station in enumerate(stations)
    ]
    rows = [
        row
        for station in stations
        for row in packets(district, [t for t in traces if t.station == station])
    ]
    return write_dataset(out, specs, rows, f"{OBSPY} (BW.UH1-UH4, 2010-05-27)")


def phasenet_windows(datasets: Path) -> list[tuple[str, int, int, list[str], FloatArray]]:
    """(file name, P index, S index, channel names, (9001, n) counts) in ``waveform.csv``
    order, zero-padded channels left out."""
    folder = datasets / PHASENET
    with (folder / "waveform.csv").open(newline="") as text:
        rows = list(csv.DictReader(text))
    arrays: dict[str, FloatArray] = {}
    with tarfile.open(folder / "waveform_dev.tar.xz", "r|xz") as tar:
        for member in tar:  # in archive order: an xz stream cannot seek back cheaply
            handle = tar.extractfile(member) if member.name.endswith(".npz") else None
            if handle is not None:
                with np.load(io.BytesIO(handle.read())) as npz:
                    arrays[member.name.rsplit("/", 1)[1]] = np.asarray(npz["data"])
    out = []
    for row in rows:
        names = row["channels"].split("_")  # E, N, Z order; a single name is the Z column
        data = arrays[row["fname"]]
        columns = [2] if len(names) == 1 else [0, 1, 2]
        out.append((row["fname"], int(row["itp"]), int(row["its"]), names,
                    data[:, columns]))  # fmt: skip
    return out


def convert_phasenet(datasets: Path, out: Path) -> tuple[int, Path]:
    specs: list[StationSpec] = []
    rows: list[RecordedMessage] = []
    for i, (name, p_index, s_index, channels, counts) in enumerate(phasenet_windows(datasets)):
        net, sta = name.split("_")[:2]
        station = f"PN{i:02d}.{net}.{sta}"
        picks: dict[str, float | str] = {"p_pick_s": p_index / PHASENET_SR_HZ,
                                         "s_pick_s": s_index / PHASENET_SR_HZ}  # fmt: skip
        specs.append(StationSpec(station, name.removesuffix(".npz"), Kind.SEISMIC, station,
                                 NCEDC_POINT[0], NCEDC_POINT[1], PACKET_S, params=picks,
                                 area=station, rules=("trigger",)))  # fmt: skip
        traces = [
            Trace(
                station, channel, PHASENET_SR_HZ, PHASENET_START, np.ascontiguousarray(counts[:, c])
            )
            for c, channel in enumerate(channels)
        ]
        rows.extend(packets(station, traces))  # fmt: skip
    rows.sort(key=lambda r: r.arrival)  # stable: windows in order at equal arrival
    return write_dataset(out, specs, rows, f"{PHASENET} (70 NCEDC windows)")
