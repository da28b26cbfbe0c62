"""The HTTP API's desk in the scale-out runtime, without Faust: officers' commands become records
on the findings topic, for the alert books that own the alerts.

Each partition of the findings topic holds the alert books of its districts (:mod:`.alerts`),
maybe on another worker. A command goes where its effect is needed, in order with the findings:

- acknowledge, feedback: to the partition of the alert's district (a station id or a district
  name is looked up in the registry; a key the registry cannot place goes to every partition,
  and the one whose book has the alert answers);
- add or expire a silence: to every partition (a silence can match alerts of any district; each
  book keeps its copy, under the same id).

The desk then waits up to ``answer_timeout_s`` for the books' answers, which the alert agent of
this process hands over (:meth:`KafkaDesk.settle`) when it applies the command. A book on
another worker answers nobody here: the API says ``queued`` (HTTP 202) — the command is in Kafka
and will be applied. Reads (alerts, silences, the acknowledgement page) show the books this
process holds.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Iterable
from typing import Any

from alerting import AlertPipeline, Silence
from alerting.service import alert_views
from yujing.api.desk import QUEUED, Answer
from yujing.config import Registry
from yujing.contracts import AlertKey
from yujing.runtime.faust.alerts import AlertStage
from yujing.runtime.faust.records import Command, Op, encode_command, partition_for
from yujing.runtime.kafka import Producer

__all__ = ["KafkaDesk"]

_FOUND = ("acknowledged", "already")


class KafkaDesk:
    """:class:`~yujing.api.desk.AlertDesk` of a worker (see the module docstring)."""

    def __init__(
        self,
        producer: Producer,
        topic: str,
        partitions: int,
        registry: Registry,
        stage: AlertStage,
        *,
        answer_timeout_s: float = 5.0,
    ) -> None:
        self.producer = producer
        self.topic = topic
        self.partitions = partitions
        self.stage = stage
        self.answer_timeout_s = answer_timeout_s
        self._district = {spec.id: spec.district for spec in registry}
        self._districts = set(registry.districts)
        self._areas: dict[str, set[str]] = {}
        for spec in registry:
            if spec.area:
                self._areas.setdefault(spec.area, set()).add(spec.district)
        self._waiting: dict[str, dict[int, asyncio.Future[Answer]]] = {}

    # ---- where a command goes ---------------------------------------------------------------

    def targets(self, key: AlertKey) -> list[int]:
        """Partitions whose books may hold ``key``: its district's, or every one."""
        area = key.area
        if area in self._district:
            districts = {self._district[area]}
        elif area in self._districts:
            districts = {area}
        else:
            districts = self._areas.get(area, set())
        if not districts:
            return list(range(self.partitions))
        return sorted({partition_for(d, self.partitions) for d in districts})

    def settle(self, command_id: str, partition: int, answer: Answer) -> None:
        """A book of this process applied a command: answer whoever here is waiting for it."""
        future = self._waiting.get(command_id, {}).get(partition)
        if future is not None and not future.done():
            future.set_result(answer)

    async def _run(self, command: Command, targets: Iterable[int], *, wait: bool) -> list[Answer]:
        """Send ``command`` to ``targets`` (returns once Kafka has it), then, with ``wait``, the
        answers that came within the timeout."""
        loop = asyncio.get_running_loop()
        futures = {p: loop.create_future() for p in targets}
        if wait:
            self._waiting[command.id] = futures
        try:
            value, headers = encode_command(command)
            sends = [
                await self.producer.send(
                    self.topic, value, key=command.id.encode(), partition=p, headers=headers
                )
                for p in futures
            ]
            await asyncio.gather(*sends)
            if not wait:
                return []
            await asyncio.wait(futures.values(), timeout=self.answer_timeout_s)
            return [f.result() for f in futures.values() if f.done()]
        finally:
            self._waiting.pop(command.id, None)

    def _command(self, op: Op, officer: str, now: float, **fields: Any) -> Command:
        return Command(secrets.token_hex(8), op, officer, now, **fields)

    # ---- AlertDesk --------------------------------------------------------------------------

    async def acknowledge(
        self, key: AlertKey, officer: str, now: float, *, is_drill: bool
    ) -> Answer:
        targets = self.targets(key)
        command = self._command(Op.ACK, officer, now, key=str(key), is_drill=is_drill)
        answers = await self._run(command, targets, wait=True)
        found = [a for a in answers if a.status in _FOUND]
        if found:
            return found[0]
        return Answer("not_active") if len(answers) == len(targets) else Answer(QUEUED)

    async def feedback(
        self, key: AlertKey, officer: str, status: str, text: str, now: float, *, is_drill: bool
    ) -> None:
        command = self._command(
            Op.FEEDBACK, officer, now, key=str(key), is_drill=is_drill, status=status, text=text
        )
        await self._run(command, self.targets(key)[:1], wait=False)

    async def add_silence(self, silence: Silence, now: float) -> None:
        command = self._command(Op.SILENCE, silence.author, now, silence=silence)
        await self._run(command, range(self.partitions), wait=False)

    async def expire_silence(self, silence_id: str, officer: str, now: float) -> Answer:
        command = self._command(Op.EXPIRE, officer, now, silence_id=silence_id)
        answers = await self._run(command, range(self.partitions), wait=True)
        ended = [a for a in answers if a.silence is not None]
        if ended:
            return ended[0]
        return Answer("unknown") if len(answers) == self.partitions else Answer(QUEUED)

    def silences(self, now: float, *, include_expired: bool) -> list[Silence]:
        found: dict[str, Silence] = {}
        for pipeline in self.stage.held().values():
            for silence in pipeline.silences.listing(now, include_expired=include_expired):
                found.setdefault(silence.id, silence)
        return sorted(found.values(), key=lambda s: (s.starts_at, s.id))

    def alert_views(self) -> list[dict[str, Any]]:
        return [view for pipeline in self.stage.held().values() for view in alert_views(pipeline)]

    def health(self) -> dict[str, Any]:
        held = self.stage.held()
        return {
            "runtime": "faust",
            "partitions": sorted(held),
            "alerts": sum(len(p.book.alerts()) for p in held.values()),
        }

    def describe(self, key: AlertKey, is_drill: bool) -> str:
        held: dict[int, AlertPipeline] = self.stage.held()
        targets = self.targets(key)
        for partition in targets:
            if partition in held:
                alert = held[partition].book.get(key, is_drill=is_drill)
                if alert is not None:
                    return f"{alert.grade.value}, {alert.state.value}"
        if all(p in held for p in targets):
            return "not active any more"
        return "held by another worker; the button acknowledges it there"
