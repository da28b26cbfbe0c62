"""Settings of the time-series writer (part of :class:`yujing.config.settings.Settings`; every key
is in ``docs/configuration.md``, the writer itself in ``docs/storage.md``)."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = ["StorageSettings"]


class StorageSettings(BaseModel):
    """Where and how readings, derived values and alerts are written (InfluxDB v2 write API)."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(default=False, description="write to the time-series database")
    url: str = "http://127.0.0.1:8086"
    org: str = "yujing"
    bucket: str = Field(default="yujing", min_length=1)
    token_file: Path | None = Field(default=None, description="file holding the API token")
    batch_size: int = Field(default=5000, gt=0, description="points per write request")
    flush_interval_s: float = Field(default=1.0, gt=0, description="longest wait to fill a batch")
    queue_max_points: int = Field(
        default=100_000, gt=0, description="bound of the write queue (about 0.4 kB a point)"
    )
    timeout_s: float = Field(default=10.0, gt=0, description="one write request")
    retry_base_s: float = Field(default=0.5, gt=0)
    retry_max_s: float = Field(default=30.0, gt=0)
    station_every_s: float = Field(
        default=300.0, gt=0, description="period of the station state and threshold points"
    )

    @model_validator(mode="after")
    def _retry_order(self) -> StorageSettings:
        if self.retry_max_s < self.retry_base_s:
            raise ValueError(
                f"retry_max_s ({self.retry_max_s}) must be at least retry_base_s "
                f"({self.retry_base_s})"
            )
        return self

    def token(self) -> str:
        """The API token (empty when no ``token_file``: InfluxDB 1.x without auth)."""
        if self.token_file is None:
            return ""
        return self.token_file.read_text(encoding="utf-8").strip()
