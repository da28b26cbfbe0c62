"""Wire the alerting stage from settings: roster, tokens, channels, pipeline, service, API.

Only construction lives here (the policy is :func:`alerting.build_pipeline`, the journal-first
shell :class:`alerting.AlertingService`); errors in settings or files become ConfigErrors.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from alerting import (
    AckLinks,
    AlertingService,
    AlertmanagerNotifier,
    Audience,
    BookPolicy,
    CapFeedNotifier,
    ChannelSpec,
    ConsoleNotifier,
    DispatchOptions,
    DrillPolicy,
    EmailNotifier,
    FlapPolicy,
    GroupPolicy,
    InhibitRule,
    Notifier,
    PipelineConfig,
    Roster,
    SmsNotifier,
    WebhookNotifier,
    build_pipeline,
)
from alerting.notifiers import text
from alerting.notifiers.cap import PUBLISHED
from yujing.api.server import ApiServer
from yujing.clock import Clock
from yujing.config import Registry, Settings
from yujing.config.roster import load_roster, load_tokens
from yujing.contracts import ConfigError
from yujing.metrics import Metrics

__all__ = ["AlertingParts", "build_alerting"]


@dataclass(slots=True)
class AlertingParts:
    service: AlertingService
    api: ApiServer | None


def _secret(path: Path | None) -> str | None:
    if path is None:
        return None
    try:
        return path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read secret: {exc.strerror or exc}") from None


def _channels(
    settings: Settings, registry: Registry, base_url: str
) -> tuple[list[Notifier], list[ChannelSpec], dict[str, int], dict[str, Path]]:
    notify = settings.notify
    notifiers: list[Notifier] = []
    specs: list[ChannelSpec] = []
    attempts: dict[str, int] = {}
    feeds: dict[str, Path] = {}
    if notify.console:
        notifiers.append(ConsoleNotifier())
        specs.append(ChannelSpec("console", scope=notify.console_scope))
    for hook in notify.webhooks:
        secret = _secret(hook.secret_file)
        notifiers.append(
            WebhookNotifier(
                hook.name,
                hook.url,
                secret.encode() if secret else None,
                hook.timeout_s,
                is_public=hook.public,
            )
        )
        specs.append(ChannelSpec(hook.name, scope=hook.scope, is_public=hook.public))
        attempts[hook.name] = hook.max_attempts
    for sms in notify.sms:
        notifiers.append(
            SmsNotifier(
                sms.name,
                sms.url,
                fields=sms.fields,
                text_template=sms.text_template or text.DEFAULT_SMS,
                body_format=sms.format,
                headers=sms.headers,
                token=_secret(sms.token_file),
                auth_header=sms.auth_header,
                auth_scheme=sms.auth_scheme,
                timeout_s=sms.timeout_s,
                is_public=sms.public,
            )
        )
        specs.append(
            ChannelSpec(sms.name, Audience.OFFICER, is_public=sms.public, contact=sms.contact)
        )
        attempts[sms.name] = sms.max_attempts
    for mail in notify.email:
        notifiers.append(
            EmailNotifier(
                mail.name,
                mail.host,
                mail.port,
                mail.sender,
                starttls=mail.starttls,
                implicit_tls=mail.implicit_tls,
                username=mail.username,
                password=_secret(mail.password_file),
                ca_file=mail.ca_file,
                timeout_s=mail.timeout_s,
                is_public=mail.public,
                subject_template=mail.subject_template or text.DEFAULT_EMAIL_SUBJECT,
                body_template=mail.body_template or text.DEFAULT_EMAIL_BODY,
            )
        )
        specs.append(
            ChannelSpec(mail.name, Audience.OFFICER, is_public=mail.public, contact=mail.contact)
        )
        attempts[mail.name] = mail.max_attempts
    for am in notify.alertmanager:
        notifiers.append(
            AlertmanagerNotifier(
                am.name,
                am.url,
                timeout_s=am.timeout_s,
                repush_s=am.repush_s,
                generator_url=base_url,
                is_public=am.public,
            )
        )
        specs.append(ChannelSpec(am.name, scope=am.scope, is_public=am.public))
        attempts[am.name] = am.max_attempts
    coordinates = {s.id: (s.lat, s.lon) for s in registry}
    for cap in notify.cap:
        feeds[cap.name] = cap.feed_dir
        notifiers.append(
            CapFeedNotifier(
                cap.name,
                cap.feed_dir,
                sender=cap.sender,
                is_public=cap.public,
                coordinates=coordinates,
                radius_km=cap.radius_km,
                max_entries=cap.max_entries,
                base_url=f"{base_url}/cap/{cap.name}" if base_url else "",
            )
        )
        specs.append(
            ChannelSpec(cap.name, scope=cap.scope, is_public=cap.public, reasons=PUBLISHED)
        )
    return notifiers, specs, attempts, feeds


def build_alerting(
    settings: Settings,
    registry: Registry,
    *,
    clock: Clock,
    metrics: Metrics,
    notifiers: list[Notifier] | None = None,
) -> AlertingParts:
    """The service (and the API when ``api.port`` is set). ``notifiers`` replaces the channels
    of the settings (tests): each is then a broadcast channel of station notices."""
    cfg = settings.alerting
    api = settings.api
    roster = load_roster(cfg.roster) if cfg.roster is not None else Roster()
    tokens = load_tokens(api.tokens_file) if api.tokens_file is not None else {}
    base_url = (api.public_url or (f"http://{api.host}:{api.port}" if api.port else "")).rstrip("/")
    links = AckLinks(base_url, tokens) if base_url and tokens else None
    try:
        if notifiers is None:
            built, specs, attempts, feeds = _channels(settings, registry, base_url)
        else:
            built, attempts, feeds = list(notifiers), {}, {}
            specs = [ChannelSpec(n.name, is_public=n.is_public) for n in notifiers]
        names = [s.name for s in specs]
        twins = sorted({n for n in names if names.count(n) > 1})
        if twins:
            raise ConfigError(f"notify: channel names must be unique, repeated: {twins}")
        config = PipelineConfig(
            book=BookPolicy(
                area_down_dwell_s=cfg.area_down_dwell_s,
                flap=FlapPolicy(
                    cfg.flap.window_s, cfg.flap.enter_reversals, cfg.flap.leave_reversals
                ),
            ),
            group=GroupPolicy(cfg.group.enabled, cfg.group.wait_s, cfg.group.interval_s),
            inhibit=tuple(
                InhibitRule(rule.source_min, rule.target_max, tuple(rule.equal))
                for rule in cfg.inhibit
            ),
            drill=DrillPolicy(
                cfg.drill.enabled, frozenset(cfg.drill.districts), frozenset(cfg.drill.stations)
            ),
            roster=roster,
            channels=tuple(specs),
            links=links,
        )
        service = AlertingService(
            build_pipeline(config),
            cfg.journal_path or settings.state_dir / "alerts.db",
            built,
            clock=clock.now,
            metrics=metrics,
            sync=cfg.journal_sync,
            dispatch=DispatchOptions(
                base_backoff_s=cfg.retry_base_s,
                max_backoff_s=max(cfg.retry_max_s, cfg.retry_base_s),
                attempt_timeout_s=cfg.attempt_timeout_s,
                max_attempts_by_channel=tuple(attempts.items()),
            ),
            reach_target_s=cfg.reach_target_s,
        )
    except ValueError as exc:
        raise ConfigError(f"alerting settings: {exc}") from None
    server = None
    if api.port:
        server = ApiServer(
            service,
            host=api.host,
            port=api.port,
            tokens=tokens,
            clock=clock.now,
            links=links,
            cap_feeds=feeds,
            metrics=metrics,
        )
    return AlertingParts(service, server)
