"""``yujing silence add|list|expire``, ``yujing ack``, ``yujing feedback``, ``yujing report``.

The first ones are clients of a running runtime's HTTP API (the author of a silence or an
acknowledgement is the officer whose token is used: ``--token-file`` or ``YUJING_TOKEN``);
``report`` reads the journal file directly and works with or without a running runtime.
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer

from yujing.config import Settings, load_settings
from yujing.contracts import ConfigError

__all__ = ["register"]

ConfigOpt = Annotated[
    Path | None,
    typer.Option("--config", "-c", help="settings YAML; YUJING_* environment variables override"),
]
ApiOpt = Annotated[
    str | None, typer.Option("--api", help="API base URL (default: from the settings' api.*)")
]
TokenOpt = Annotated[
    Path | None,
    typer.Option("--token-file", help="file holding your officer token (or set YUJING_TOKEN)"),
]
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)\s*([smhd]?)$")
_UNIT_S = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}

silence_app = typer.Typer(help="Silences and maintenance windows (through the HTTP API).")


def parse_duration(text: str) -> float:
    """``90``, ``90s``, ``30m``, ``2h``, ``1d`` → seconds."""
    match = _DURATION.match(text.strip())
    if match is None:
        raise typer.BadParameter(f"{text!r} is not a duration like 90s, 30m, 2h, 1d")
    return float(match.group(1)) * _UNIT_S[match.group(2)]


def parse_time(text: str) -> float:
    """Epoch seconds, or ISO 8601 (``2026-07-01T08:00+08:00``; no offset means local time)."""
    try:
        return float(text)
    except ValueError:
        pass
    try:
        return datetime.fromisoformat(text).timestamp()
    except ValueError:
        raise typer.BadParameter(f"{text!r} is neither epoch seconds nor ISO 8601") from None


def _settings(path: Path | None) -> Settings:
    try:
        return load_settings(path)
    except ConfigError as exc:
        typer.echo(f"configuration error:\n{exc}", err=True)
        raise typer.Exit(2) from None


def _client(config: Path | None, api: str | None, token_file: Path | None) -> httpx.Client:
    if api is None:
        settings = _settings(config)
        if settings.api.public_url:
            api = settings.api.public_url
        elif settings.api.port:
            api = f"http://{settings.api.host}:{settings.api.port}"
        else:
            typer.echo("no API configured: set api.port in the settings or pass --api", err=True)
            raise typer.Exit(2)
    token = os.environ.get("YUJING_TOKEN")
    if token_file is not None:
        token = token_file.read_text(encoding="utf-8").strip()
    if not token:
        typer.echo("an officer token is needed: --token-file FILE or YUJING_TOKEN", err=True)
        raise typer.Exit(2)
    return httpx.Client(
        base_url=api.rstrip("/"), headers={"Authorization": f"Bearer {token}"}, timeout=10.0
    )


def _call(client: httpx.Client, method: str, path: str, body: Any = None) -> Any:
    try:
        response = client.request(method, path, json=body)
    except httpx.HTTPError as exc:
        typer.echo(f"cannot reach the API at {client.base_url}: {exc}", err=True)
        raise typer.Exit(1) from None
    if response.status_code >= 400:
        typer.echo(f"API answered {response.status_code}: {response.text.strip()}", err=True)
        raise typer.Exit(1)
    return response.json()


def _when(ts: float) -> str:
    return datetime.fromtimestamp(ts).astimezone().strftime("%Y-%m-%d %H:%M:%S %z")


@silence_app.command("add")
def silence_add(
    duration: Annotated[str | None, typer.Option("--for", help="length: 90s, 30m, 2h, 1d")] = None,
    until: Annotated[str | None, typer.Option(help="end (epoch or ISO 8601)")] = None,
    start: Annotated[str | None, typer.Option("--from", help="start (default: now)")] = None,
    station: Annotated[str | None, typer.Option()] = None,
    area: Annotated[str | None, typer.Option()] = None,
    district: Annotated[str | None, typer.Option()] = None,
    hazard: Annotated[str | None, typer.Option()] = None,
    rule: Annotated[str | None, typer.Option()] = None,
    comment: Annotated[str, typer.Option(help="why")] = "",
    maintenance: Annotated[bool, typer.Option(help="a maintenance window")] = False,
    config: ConfigOpt = None,
    api: ApiOpt = None,
    token_file: TokenOpt = None,
) -> None:
    """Silence alerts matching station/area/district/hazard/rule for a while."""
    if (duration is None) == (until is None):
        raise typer.BadParameter("give --for or --until")
    body: dict[str, Any] = {
        "station": station,
        "area": area,
        "district": district,
        "hazard": hazard,
        "rule": rule,
        "comment": comment,
        "maintenance": maintenance,
    }
    if start is not None:
        body["starts_at"] = parse_time(start)
    if duration is not None:
        body["duration_s"] = parse_duration(duration)
    else:
        body["ends_at"] = parse_time(until or "")
    with _client(config, api, token_file) as client:
        made = _call(client, "POST", "/api/v1/silences", body)
    typer.echo(f"silence {made['id']} until {_when(made['ends_at'])} by {made['author']}")


@silence_app.command("list")
def silence_list(
    include_expired: Annotated[bool, typer.Option("--all", help="include expired")] = False,
    config: ConfigOpt = None,
    api: ApiOpt = None,
    token_file: TokenOpt = None,
) -> None:
    """List silences and maintenance windows."""
    with _client(config, api, token_file) as client:
        found = _call(client, "GET", f"/api/v1/silences{'?all=1' if include_expired else ''}")
    for s in found["silences"]:
        matches = " ".join(
            f"{k}={s[k]}" for k in ("station", "area", "district", "hazard", "rule") if s[k]
        )
        kind = "maintenance" if s["is_maintenance"] else "silence"
        expired = f"  (expired by {s['expired_by']})" if s["expired_by"] else ""
        typer.echo(
            f"{s['id']}  {kind:<11} {matches:<30} {_when(s['starts_at'])} → {_when(s['ends_at'])}"
            f"  by {s['author']}{expired}  {s['comment']}"
        )
    if not found["silences"]:
        typer.echo("no silences")


@silence_app.command("expire")
def silence_expire(
    silence_id: Annotated[str, typer.Argument(help="id from `silence list`")],
    config: ConfigOpt = None,
    api: ApiOpt = None,
    token_file: TokenOpt = None,
) -> None:
    """End a silence now."""
    with _client(config, api, token_file) as client:
        ended = _call(client, "DELETE", f"/api/v1/silences/{silence_id}")
    typer.echo(f"silence {ended['id']} expired at {_when(ended['ends_at'])}")


def ack(
    key: Annotated[str, typer.Argument(help="alert key area/hazard/rule")],
    drill: Annotated[bool, typer.Option(help="the drill alert of that key")] = False,
    config: ConfigOpt = None,
    api: ApiOpt = None,
    token_file: TokenOpt = None,
) -> None:
    """Acknowledge an alert (stops its escalation)."""
    with _client(config, api, token_file) as client:
        result = _call(client, "POST", "/api/v1/ack", {"key": key, "drill": drill})
    typer.echo(f"{result['key']}: {result['status']} (version {result['version']})")


def feedback(
    key: Annotated[str, typer.Argument(help="alert key area/hazard/rule")],
    status: Annotated[str, typer.Option(help="e.g. on_site, handled, false_alarm")],
    text: Annotated[str, typer.Option(help="what was found or done")] = "",
    drill: Annotated[bool, typer.Option(help="the drill alert of that key")] = False,
    config: ConfigOpt = None,
    api: ApiOpt = None,
    token_file: TokenOpt = None,
) -> None:
    """Record handling feedback for an alert."""
    with _client(config, api, token_file) as client:
        _call(
            client,
            "POST",
            "/api/v1/feedback",
            {"key": key, "status": status, "text": text, "drill": drill},
        )
    typer.echo(f"{key}: feedback recorded")


def report(
    since: Annotated[str, typer.Option(help="period: a duration back from now, or a time")] = "7d",
    drill: Annotated[bool, typer.Option(help="report drills instead of real alerts")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable")] = False,
    journal: Annotated[
        Path | None, typer.Option(help="journal file (default: from the settings)")
    ] = None,
    config: ConfigOpt = None,
) -> None:
    """Delivery and acknowledgement report from the journal (exit 3 if a target is missed)."""
    from alerting.journal import Journal
    from alerting.report import build_report, format_report

    settings = _settings(config)
    path = journal or settings.alerting.journal_path or settings.state_dir / "alerts.db"
    if not path.is_file():
        typer.echo(f"no journal at {path}", err=True)
        raise typer.Exit(2)
    try:
        start = time.time() - parse_duration(since)
    except typer.BadParameter:
        start = parse_time(since)
    opened = Journal(path)
    try:
        result = build_report(
            opened, since=start, drill=drill, reach_target_s=settings.alerting.reach_target_s
        )
    finally:
        opened.close()
    if as_json:
        sys.stdout.write(json.dumps(result.to_json(), indent=2) + "\n")
    else:
        typer.echo(format_report(result))
    if not all(result.targets_met.values()):
        raise typer.Exit(3)


def register(app: typer.Typer) -> None:
    """Add the alerting commands to the ``yujing`` command."""
    app.add_typer(silence_app, name="silence")
    app.command()(ack)
    app.command()(feedback)
    app.command()(report)
