"""The duty roster (``configs/roster.yaml``) and the officers' API tokens file.

Roster shape (every key: ``docs/alerting.md``)::

    timezone: "+08:00"            # local time of the shifts
    ack_timeout_s: 300            # orange/red must be acknowledged within this
    max_reminders: 3              # reminders after the escalation chain ran out
    officers:
      li.wei: {name: 李伟, phone: "+8613800000001", email: li.wei@example.org}
    shifts:
      day: {start: "08:00", end: "20:00"}
      night: {start: "20:00", end: "08:00"}
    leaders: {district-a: zhao.min}       # paged at once for red
    routes:                               # first match wins
      - districts: [district-a]           # omitted: any district
        hazards: [flood, rainstorm]       # omitted: any hazard
        grades: [orange, red]             # omitted: every warning grade
        chains: {day: [li.wei, wang.fang], night: [chen.jie, li.wei]}
      - chain: [duty.desk]                # one chain for every shift

Tokens file (a secret: never in ``configs/``; referenced by ``api.tokens_file``)::

    li.wei: 6f1c0c3e6d7a4f0e9a8b...       # officer id: API token (at least 16 characters)
"""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator

from alerting.routing import ANY_SHIFT, Officer, Roster, Route, Shift
from yujing.config.yamlfile import KeyPath, config_error, load_model, read_yaml
from yujing.contracts import WARNING_GRADES, ConfigError, Grade, Hazard

__all__ = ["load_roster", "load_tokens"]

_CLOCK = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
_OFFSET = re.compile(r"^([+-])(\d\d):(\d\d)$")
_ID = r"^[A-Za-z0-9_.-]{1,64}$"


class _OfficerModel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = ""
    phone: str | None = None
    email: str | None = None
    contacts: dict[str, str] = Field(default_factory=dict)


class _ShiftModel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    start: str = Field(pattern=_CLOCK.pattern)
    end: str = Field(pattern=_CLOCK.pattern)


class _RouteModel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    districts: list[str] = Field(default_factory=list)
    hazards: list[Hazard] = Field(default_factory=list)
    grades: list[Grade] = Field(default_factory=lambda: list(WARNING_GRADES))
    chain: list[str] | None = None
    chains: dict[str, list[str]] | None = None
    channels: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _one_chain(self) -> _RouteModel:
        if (self.chain is None) == (self.chains is None):
            raise ValueError("give either chain (every shift) or chains (per shift)")
        return self


class _RosterModel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    timezone: str = Field(default="+08:00", pattern=_OFFSET.pattern)
    ack_timeout_s: float = Field(default=300.0, gt=0)
    max_reminders: int = Field(default=3, ge=0)
    ack_grades: list[Grade] = Field(default_factory=lambda: [Grade.ORANGE, Grade.RED])
    leader_grades: list[Grade] = Field(default_factory=lambda: [Grade.RED])
    officers: dict[str, _OfficerModel] = Field(default_factory=dict)
    shifts: dict[str, _ShiftModel] = Field(default_factory=dict)
    leaders: dict[str, str] = Field(default_factory=dict)
    routes: list[_RouteModel] = Field(default_factory=list)


def _minutes(clock: str) -> int:
    match = _CLOCK.match(clock)
    assert match is not None  # the model checked the pattern
    return int(match.group(1)) * 60 + int(match.group(2))


def load_roster(path: Path) -> Roster:
    """The roster in ``path`` as frozen objects; ConfigError naming file, line and key."""
    model, lines = load_model(_RosterModel, path)
    for officer_id in model.officers:
        if not re.match(_ID, officer_id):
            raise config_error(
                path, lines, ("officers", officer_id), "officer ids are [A-Za-z0-9_.-]"
            )
    sign, hours, minutes = _OFFSET.match(model.timezone).groups()  # type: ignore[union-attr]
    offset_s = (int(hours) * 3600 + int(minutes) * 60) * (1 if sign == "+" else -1)
    officers = {}
    for officer_id, spec in model.officers.items():
        contacts = dict(spec.contacts)
        if spec.phone:
            contacts["phone"] = spec.phone
        if spec.email:
            contacts["email"] = spec.email
        officers[officer_id] = Officer(officer_id, spec.name or officer_id, contacts)
    routes = []
    for index, route in enumerate(model.routes):
        chains = {ANY_SHIFT: route.chain} if route.chain is not None else route.chains or {}
        for shift, chain in chains.items():
            if shift != ANY_SHIFT and shift not in model.shifts:
                where: KeyPath = ("routes", index, "chains", shift)
                raise config_error(path, lines, where, f"shift {shift!r} is not in shifts")
            for position, officer in enumerate(chain):
                if officer not in officers:
                    where = ("routes", index, "chain" if route.chain is not None else "chains")
                    raise config_error(
                        path,
                        lines,
                        where,
                        f"officer {officer!r} (position {position}) is not listed",
                    )
        routes.append(
            Route(
                chains={shift: tuple(chain) for shift, chain in chains.items()},
                districts=frozenset(route.districts),
                hazards=frozenset(route.hazards),
                grades=frozenset(route.grades),
                channels=tuple(route.channels),
            )
        )
    for district, officer in model.leaders.items():
        if officer not in officers:
            raise config_error(
                path, lines, ("leaders", district), f"officer {officer!r} is not listed"
            )
    return Roster(
        officers=officers,
        routes=tuple(routes),
        shifts=tuple(
            Shift(name, _minutes(s.start), _minutes(s.end)) for name, s in model.shifts.items()
        ),
        leaders=dict(model.leaders),
        utc_offset_s=offset_s,
        ack_timeout_s=model.ack_timeout_s,
        ack_grades=frozenset(model.ack_grades),
        leader_grades=frozenset(model.leader_grades),
        max_reminders=model.max_reminders,
    )


def load_tokens(path: Path) -> dict[str, str]:
    """Officer id → API token from the tokens file (a YAML mapping)."""
    data, lines = read_yaml(path)
    if not isinstance(data, dict):
        raise config_error(path, lines, (), "a tokens file must map officer ids to tokens")
    tokens: dict[str, str] = {}
    seen: set[str] = set()
    for officer, token in data.items():
        if not isinstance(token, str) or len(token) < 16:
            # never echo the value: it is a secret
            raise config_error(
                path, lines, (str(officer),), "token must be a string of 16+ characters"
            )
        if token in seen:
            raise config_error(path, lines, (str(officer),), "token is shared with another officer")
        seen.add(token)
        tokens[str(officer)] = token
    return tokens


def check_roster(path: Path) -> None:
    """Raise ConfigError if ``path`` is not a valid roster (for ``check-config``)."""
    try:
        load_roster(path)
    except ValueError as exc:  # a Roster invariant not caught above
        raise ConfigError(f"{path}: {exc}") from None
