"""Loaders for the seismic datasets (``obspy_seismic``, ``phasenet_ncedc``) and a driver that
feeds a trace to the trigger detector packet by packet, as the runtime would."""

from __future__ import annotations

import gzip
import io
import tarfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType

import numpy as np
import numpy.typing as npt

from detectors import StaLtaDetector
from tests.unit.detectors.helpers import BOOK, DISTRICT
from yujing.config.ladders import RuleSpec
from yujing.config.stations import StationSpec
from yujing.contracts import Finding, Grade, Hazard, Kind, Reading, Waveform

Array = npt.NDArray[np.float64]
OBSPY = "obspy_seismic/signal_tests_data"
TRIGGER: RuleSpec = BOOK.get(Hazard.EARTHQUAKE, "trigger")


def read_ascii(path: Path) -> Array:
    """One number per line (optionally gzipped)."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt") as handle:
        return np.array(handle.read().split(), dtype=np.float64)


@dataclass(frozen=True, slots=True)
class Trace:
    station: str
    channel: str
    sr_hz: float
    t0: float
    samples: Array


def read_slist(path: Path) -> Trace:
    """ObsPy SLIST ASCII: a TIMESERIES header line, then the samples."""
    with gzip.open(path, "rt") as handle:
        header = handle.readline().split(",")
        samples = np.array(handle.read().split(), dtype=np.float64)
    net_sta_loc_cha = header[0].split()[1]  # e.g. BW_UH1__SHZ_D
    parts = net_sta_loc_cha.split("_")
    start = datetime.strptime(header[3].strip(), "%Y-%m-%dT%H:%M:%S.%f")
    return Trace(
        parts[1],
        parts[3],
        float(header[2].split()[0]),
        start.replace(tzinfo=UTC).timestamp(),
        samples,
    )


def phasenet(root: Path) -> Iterator[tuple[str, Array, int]]:
    """(file name, samples (9001, 3) E/N/Z, P index) for the 70 PhaseNet windows."""
    found: list[tuple[str, Array, int]] = []
    with tarfile.open(root / "phasenet_ncedc" / "waveform_dev.tar.xz", "r|xz") as tar:
        for member in tar:  # in archive order: an xz stream cannot seek back cheaply
            if not member.name.endswith(".npz"):
                continue
            handle = tar.extractfile(member)
            assert handle is not None
            with np.load(io.BytesIO(handle.read())) as npz:
                name = member.name.rsplit("/", 1)[1]
                found.append((name, np.asarray(npz["data"]), int(npz["itp"])))
    yield from sorted(found, key=lambda item: item[0])


def trigger_rule(**params: float) -> RuleSpec:
    """The shipped trigger rule with some params (and ``on_ratio``/``off_ratio``) replaced."""
    merged = dict(TRIGGER.params)
    on = params.pop("on_ratio", None)
    off = params.pop("off_ratio", None)
    merged.update(params)
    ladder = TRIGGER.ladder
    if on is not None or off is not None:
        rung = ladder.rungs[0]
        enter = rung.enter if on is None else on
        exit_edge = rung.enter - rung.hysteresis if off is None else off
        ladder = replace(ladder, rungs=(replace(rung, enter=enter, hysteresis=enter - exit_edge),))
    return replace(TRIGGER, ladder=ladder, params=MappingProxyType(merged))


def picker(station: str = "Q1", rule: RuleSpec | None = None) -> StaLtaDetector:
    spec = StationSpec(station, "", Kind.SEISMIC, DISTRICT, 0.0, 0.0, 1.0)
    return StaLtaDetector(spec, [rule or TRIGGER])


def packets(
    trace: Trace, sizes: Sequence[int] | None = None, packet_s: float = 1.0
) -> list[Reading]:
    """The trace cut into packets (of ``sizes`` samples, or of ``packet_s`` seconds)."""
    n = trace.samples.size
    if sizes is None:
        step = max(1, round(packet_s * trace.sr_hz))
        sizes = [step] * (n // step + 1)
    out: list[Reading] = []
    start = 0
    for seq, size in enumerate(sizes):
        if start >= n:
            break
        chunk = trace.samples[start : start + size]
        t0 = trace.t0 + start / trace.sr_hz
        out.append(
            Reading(
                trace.station,
                Kind.SEISMIC,
                DISTRICT,
                t0,
                seq,
                {},
                waveform=Waveform(trace.channel, trace.sr_hz, t0, chunk),
            )
        )
        start += size
    return out


def onsets(findings: Sequence[Finding]) -> list[float]:
    """Event times of the trigger-on findings."""
    return [f.ts for f in findings if f.rule == "trigger" and f.grade is Grade.BLUE]


def run_picker(trace: Trace, rule: RuleSpec | None = None, **cut: object) -> list[Finding]:
    detector = picker(trace.station, rule)
    out: list[Finding] = []
    for reading in packets(trace, **cut):  # type: ignore[arg-type]
        out.extend(detector.update(reading))
    return out
