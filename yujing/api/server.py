"""The HTTP API of the runtimes (aiohttp, on the runtime's event loop).

Routes (``docs/api.md``); everything under ``/api/v1`` needs ``Authorization: Bearer <token>``
of an officer from ``api.tokens_file``, and every change is journaled under that officer's id:

=======  ================================  ===================================================
GET      /healthz                          liveness, journal and channel backlog (no token)
GET      /readyz                           503 until readings flow in (subscribed), then 200
GET      /api/v1/alerts                    active alerts with duty and acknowledgement state
POST     /api/v1/ack                       ``{"key": "...", "drill": false}``
POST     /api/v1/feedback                  ``{"key": "...", "status": "...", "text": "..."}``
GET      /api/v1/silences                  silences, maintenance windows (``?all=1``: expired too)
POST     /api/v1/silences                  create one (author = the token's officer)
DELETE   /api/v1/silences/{id}             expire one now
GET      /ack/{code}                       the SMS/e-mail link: a page with one button
POST     /ack/{code}                       the button: acknowledge as the link's officer
GET      /cap/{channel}/feed.xml           CAP feed index (Atom); ``/cap/{channel}/{file}``
=======  ================================  ===================================================

Handlers run on the runtime's loop and ask its :class:`~yujing.api.desk.AlertDesk`: the embedded
runtime's service directly, the Faust worker's through commands on Kafka. A command whose outcome
is not known in time (a Faust alert book on another worker) is answered ``202`` ``queued``.
"""

from __future__ import annotations

import hmac
import html
import logging
import secrets
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from alerting import AckLinks, AlertingService, Silence
from yujing.api.desk import QUEUED, AlertDesk, Answer, ServiceDesk
from yujing.contracts import AlertKey, Hazard
from yujing.metrics import Metrics

__all__ = ["ApiServer"]

log = logging.getLogger(__name__)
OFFICER = web.AppKey("officer", str)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class _AckBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    key: str
    drill: bool = False


class _FeedbackBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    key: str
    status: str = Field(min_length=1, max_length=40)
    text: str = Field(default="", max_length=2000)
    drill: bool = False


class _SilenceBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    station: str | None = None
    area: str | None = None
    district: str | None = None
    hazard: Hazard | None = None
    rule: str | None = None
    starts_at: float | None = None
    ends_at: float | None = None
    duration_s: float | None = Field(default=None, gt=0)
    comment: str = Field(default="", max_length=500)
    maintenance: bool = False

    @model_validator(mode="after")
    def _window(self) -> _SilenceBody:
        if (self.ends_at is None) == (self.duration_s is None):
            raise ValueError("give ends_at or duration_s")
        return self


def _key(text: str) -> AlertKey:
    try:
        return AlertKey.parse(text)
    except ValueError:
        raise web.HTTPBadRequest(text=f"not an alert key (area/hazard/rule): {text!r}") from None


async def _body(request: web.Request, model: type[BaseModel]) -> Any:
    try:
        return model.model_validate(await request.json())
    except ValueError as exc:  # JSON errors and ValidationError
        detail = exc.errors() if isinstance(exc, ValidationError) else str(exc)
        raise web.HTTPBadRequest(
            text=web.json_response({"error": "bad request", "detail": detail}).text,
            content_type="application/json",
        ) from None


class ApiServer:
    def __init__(
        self,
        service: AlertingService | AlertDesk,
        *,
        host: str,
        port: int,
        tokens: Mapping[str, str],
        clock: Callable[[], float],
        links: AckLinks | None = None,
        cap_feeds: Mapping[str, Path] | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self.desk: AlertDesk = (
            ServiceDesk(service) if isinstance(service, AlertingService) else service
        )
        self.host, self.port = host, port
        self._tokens = [(token.encode(), officer) for officer, token in tokens.items()]
        self._clock = clock
        self._links = links
        self._cap_feeds = dict(cap_feeds or {})
        self._metrics = metrics
        self._runner: web.AppRunner | None = None
        self.ready: Callable[[], bool] = lambda: True
        """Whether the runtime receives readings; the embedded runtime sets its MQTT
        subscription here, so a probe (or a test) does not publish into a void."""

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._count], client_max_size=64 * 1024)
        app.add_routes(
            [
                web.get("/healthz", self.health),
                web.get("/readyz", self.readiness),
                web.get("/api/v1/alerts", self.alerts),
                web.post("/api/v1/ack", self.ack),
                web.post("/api/v1/feedback", self.feedback),
                web.get("/api/v1/silences", self.silences),
                web.post("/api/v1/silences", self.add_silence),
                web.delete("/api/v1/silences/{silence_id}", self.expire_silence),
                web.get("/ack/{code}", self.ack_page),
                web.post("/ack/{code}", self.ack_link),
                web.get("/cap/{channel}/{file}", self.cap),
            ]
        )
        return app

    async def start(self) -> None:
        runner = web.AppRunner(self.app(), access_log=None)
        await runner.setup()
        await web.TCPSite(runner, self.host, self.port).start()
        self._runner = runner
        log.info("api listening", extra={"host": self.host, "port": self.port})

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # ---- plumbing ---------------------------------------------------------------------------

    @web.middleware
    async def _count(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        route = request.match_info.route.resource
        name = route.canonical if route is not None else "unmatched"
        status = 500
        try:
            response = await handler(request)
            status = response.status
            return response
        except web.HTTPException as exc:
            status = exc.status
            raise
        finally:
            if self._metrics is not None:
                self._metrics.api_requests.labels(name, str(status)).inc()

    def _officer(self, request: web.Request) -> str:
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() == "bearer" and token:
            given = token.strip().encode()
            found = None
            for known, officer in self._tokens:  # constant time per token, all compared
                if hmac.compare_digest(known, given):
                    found = officer
            if found is not None:
                return found
        raise web.HTTPUnauthorized(
            text='{"error": "a valid officer token is required"}',
            content_type="application/json",
            headers={"WWW-Authenticate": 'Bearer realm="yujing"'},
        )

    # ---- handlers ---------------------------------------------------------------------------

    async def health(self, request: web.Request) -> web.Response:
        return web.json_response({"status": "ok", **self.desk.health()})

    async def readiness(self, request: web.Request) -> web.Response:
        ready = self.ready()
        return web.json_response({"ready": ready}, status=200 if ready else 503)

    async def alerts(self, request: web.Request) -> web.Response:
        self._officer(request)
        return web.json_response({"alerts": self.desk.alert_views()})

    async def ack(self, request: web.Request) -> web.Response:
        officer = self._officer(request)
        body: _AckBody = await _body(request, _AckBody)
        key = _key(body.key)
        result = await self.desk.acknowledge(key, officer, self._clock(), is_drill=body.drill)
        payload = {"key": str(key), "status": result.status, "version": result.version}
        status = {"not_active": 404, QUEUED: 202}.get(result.status, 200)
        return web.json_response(payload, status=status)

    async def feedback(self, request: web.Request) -> web.Response:
        officer = self._officer(request)
        body: _FeedbackBody = await _body(request, _FeedbackBody)
        key = _key(body.key)
        await self.desk.feedback(
            key, officer, body.status, body.text, self._clock(), is_drill=body.drill
        )
        return web.json_response({"key": str(key), "recorded": True}, status=201)

    async def silences(self, request: web.Request) -> web.Response:
        self._officer(request)
        include = request.query.get("all") in ("1", "true", "yes")
        listed = self.desk.silences(self._clock(), include_expired=include)
        return web.json_response({"silences": [s.to_json() for s in listed]})

    async def add_silence(self, request: web.Request) -> web.Response:
        officer = self._officer(request)
        body: _SilenceBody = await _body(request, _SilenceBody)
        now = self._clock()
        starts_at = body.starts_at if body.starts_at is not None else now
        ends_at = body.ends_at if body.ends_at is not None else starts_at + (body.duration_s or 0)
        try:
            silence = Silence(
                id=secrets.token_hex(4),
                starts_at=starts_at,
                ends_at=ends_at,
                author=officer,
                comment=body.comment,
                created_at=now,
                is_maintenance=body.maintenance,
                station=body.station,
                area=body.area,
                district=body.district,
                hazard=body.hazard,
                rule=body.rule,
            )
        except ValueError as exc:
            raise web.HTTPBadRequest(text=str(exc)) from None
        await self.desk.add_silence(silence, now)
        return web.json_response(silence.to_json(), status=201)

    async def expire_silence(self, request: web.Request) -> web.Response:
        officer = self._officer(request)
        silence_id = request.match_info["silence_id"]
        answer: Answer = await self.desk.expire_silence(silence_id, officer, self._clock())
        if answer.silence is not None:
            return web.json_response(answer.silence.to_json())
        if answer.status == QUEUED:
            return web.json_response({"id": silence_id, "status": QUEUED}, status=202)
        raise web.HTTPNotFound(text=f"no active silence {silence_id}")

    def _verify(self, request: web.Request) -> tuple[str, AlertKey, bool]:
        found = None if self._links is None else self._links.verify(request.match_info["code"])
        if found is None:
            raise web.HTTPNotFound(text="this acknowledgement link is not valid")
        return found

    async def ack_page(self, request: web.Request) -> web.Response:
        officer, key, is_drill = self._verify(request)
        state = self.desk.describe(key, is_drill)
        drill = "【演练 EXERCISE】" if is_drill else ""
        page = (
            "<!doctype html><meta charset=utf-8><title>yujing 确认</title>"
            f"<h1>{drill}{html.escape(str(key))}</h1><p>{html.escape(state)}</p>"
            f"<form method=post><button>确认收到 Acknowledge as {html.escape(officer)}</button>"
            "</form>"
        )
        return web.Response(text=page, content_type="text/html")

    async def ack_link(self, request: web.Request) -> web.Response:
        officer, key, is_drill = self._verify(request)
        result = await self.desk.acknowledge(key, officer, self._clock(), is_drill=is_drill)
        messages = {
            "acknowledged": "已确认 Acknowledged",
            "already": "已有人确认 Already acknowledged",
            "not_active": "告警已解除 The alert is no longer active",
            QUEUED: "已提交 Acknowledgement sent; it takes effect in a moment",
        }
        page = (
            "<!doctype html><meta charset=utf-8><title>yujing</title>"
            f"<h1>{html.escape(messages[result.status])}</h1><p>{html.escape(str(key))}</p>"
        )
        return web.Response(text=page, content_type="text/html")

    async def cap(self, request: web.Request) -> web.StreamResponse:
        folder = self._cap_feeds.get(request.match_info["channel"])
        name = request.match_info["file"]
        if folder is None or "/" in name or name.startswith(".") or not name.endswith(".xml"):
            raise web.HTTPNotFound()
        path = folder / name
        if not path.is_file():
            raise web.HTTPNotFound()
        kind = "application/atom+xml" if name == "feed.xml" else "application/cap+xml"
        return web.Response(body=path.read_bytes(), content_type=kind)
