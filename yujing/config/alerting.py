"""Settings of the alerting stage, the HTTP API and the officer channels (part of
:class:`yujing.config.settings.Settings`; every key is in ``docs/configuration.md``)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from yujing.contracts import Grade

__all__ = [
    "AlertingSettings",
    "AlertmanagerSettings",
    "ApiSettings",
    "CapSettings",
    "EmailSettings",
    "Scope",
    "SmsSettings",
    "resolve_paths",
]

Scope = Literal["station", "group", "all"]
Fix = Callable[[Path | None], Path | None]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FlapSettings(_Strict):
    window_s: float = Field(default=3600.0, gt=0)
    enter_reversals: int = Field(default=4, ge=0, description="0 switches flap suppression off")
    leave_reversals: int = Field(default=1, ge=0)


class GroupSettings(_Strict):
    enabled: bool = True
    wait_s: float = Field(default=10.0, ge=0)
    interval_s: float = Field(default=300.0, ge=0)


Label = Literal["area", "district", "hazard"]


def _area_and_hazard() -> list[Label]:
    return ["area", "hazard"]


class InhibitSettings(_Strict):
    source_min: Grade = Grade.RED
    target_max: Grade = Grade.YELLOW
    equal: list[Label] = Field(default_factory=_area_and_hazard)


class DrillSettings(_Strict):
    enabled: bool = False
    districts: list[str] = Field(default_factory=list)
    stations: list[str] = Field(default_factory=list)


class AlertingSettings(_Strict):
    journal_path: Path | None = None
    journal_sync: Literal["full", "normal"] = "full"
    roster: Path | None = None
    area_down_dwell_s: float = Field(default=600.0, ge=0)
    flap: FlapSettings = Field(default_factory=FlapSettings)
    group: GroupSettings = Field(default_factory=GroupSettings)
    inhibit: list[InhibitSettings] = Field(default_factory=lambda: [InhibitSettings()])
    drill: DrillSettings = Field(default_factory=DrillSettings)
    reach_target_s: float = Field(default=300.0, gt=0)
    retry_base_s: float = Field(default=0.5, gt=0)
    retry_max_s: float = Field(default=30.0, gt=0)
    attempt_timeout_s: float = Field(default=60.0, gt=0)


class ApiSettings(_Strict):
    host: str = "127.0.0.1"
    port: int = Field(default=0, ge=0, le=65535, description="0 disables the HTTP API")
    public_url: str | None = None
    tokens_file: Path | None = None


class SmsSettings(_Strict):
    name: str = "sms"
    url: str
    format: Literal["json", "form"] = "json"
    fields: dict[str, str] = Field(default_factory=lambda: {"to": "{phone}", "text": "{text}"})
    text_template: str | None = None
    headers: dict[str, str] = Field(default_factory=dict)
    token_file: Path | None = None
    auth_header: str = "Authorization"
    auth_scheme: str = "Bearer"
    contact: str = "phone"
    timeout_s: float = Field(default=5.0, gt=0)
    max_attempts: int = Field(default=8, ge=1)
    public: bool = False


class EmailSettings(_Strict):
    name: str = "email"
    host: str
    port: int = Field(default=587, ge=1, le=65535)
    sender: str
    starttls: bool = True
    implicit_tls: bool = False
    username: str | None = None
    password_file: Path | None = None
    ca_file: Path | None = None
    subject_template: str | None = None
    body_template: str | None = None
    contact: str = "email"
    timeout_s: float = Field(default=10.0, gt=0)
    max_attempts: int = Field(default=5, ge=1)
    public: bool = False


class AlertmanagerSettings(_Strict):
    name: str = "alertmanager"
    url: str
    scope: Scope = "station"
    repush_s: float = Field(default=60.0, ge=0)
    timeout_s: float = Field(default=5.0, gt=0)
    max_attempts: int = Field(default=5, ge=1)
    public: bool = False


class CapSettings(_Strict):
    name: str = "cap"
    feed_dir: Path = Path("var/cap")
    sender: str = "yujing@localhost"
    scope: Scope = "group"
    public: bool = True
    radius_km: float = Field(default=2.0, gt=0)
    max_entries: int = Field(default=200, ge=1)


def resolve_paths(settings: Any, fix: Fix) -> dict[str, Any]:
    """Updates for :meth:`Settings.resolved`: this module's relative paths made absolute."""

    def fixed(path: Path | None) -> Path | None:
        return fix(path) or path

    alerting = settings.alerting
    notify = settings.notify
    return {
        "alerting": alerting.model_copy(
            update={"journal_path": fixed(alerting.journal_path), "roster": fixed(alerting.roster)}
        ),
        "api": settings.api.model_copy(update={"tokens_file": fixed(settings.api.tokens_file)}),
        "notify": {
            "sms": [s.model_copy(update={"token_file": fixed(s.token_file)}) for s in notify.sms],
            "email": [
                e.model_copy(
                    update={"password_file": fixed(e.password_file), "ca_file": fixed(e.ca_file)}
                )
                for e in notify.email
            ],
            "cap": [c.model_copy(update={"feed_dir": fixed(c.feed_dir)}) for c in notify.cap],
        },
    }
