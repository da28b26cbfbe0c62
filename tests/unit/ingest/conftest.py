"""Fixtures: the example registry, the project's quantity limits, a decoder on both."""

from __future__ import annotations

import pytest

from ingest import Decoder
from tests.unit.ingest.helpers import MAX_PAYLOAD_BYTES, REPO, STATIONS
from yujing.config import QuantityLimits, Registry, load_quantities


@pytest.fixture(scope="session")
def limits() -> QuantityLimits:
    return load_quantities(REPO / "configs" / "quantities.yaml")


@pytest.fixture(scope="session")
def registry() -> Registry:
    return Registry.from_specs(STATIONS)


@pytest.fixture
def decoder(registry: Registry, limits: QuantityLimits) -> Decoder:
    return Decoder(
        registry,
        limits,
        max_payload_bytes=MAX_PAYLOAD_BYTES,
        future_tolerance_s=300.0,
        allowed_lateness_s=3600.0,
    )
