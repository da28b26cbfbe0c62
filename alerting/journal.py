"""The durable journal and outbox: SQLite in WAL mode, written *before* anything is sent.

One transaction per pipeline step (:meth:`Journal.commit`) holds everything the step decided:

- ``state``: every changed row of the alerting state (book entries and version counters,
  district groups, duties and deadlines, silences), so the pipeline can be rebuilt exactly;
- ``transitions``: every notice, append-only, unique on ``(key, version)``;
- ``outbox``: every delivery, unique on ``(key, version, officer, channel)``, status ``pending``;
- ``events``: acknowledgements, feedback, pages, silences, held-back notices (audit, report).

Only after that transaction is on disk are the deliveries handed to the dispatcher; each final
outcome then sets the row's status (``delivered``, ``failed``, ``blocked``) in its own small
transaction. After a crash, :meth:`Journal.state_rows` rebuilds the pipeline and
:meth:`Journal.pending` lists exactly the deliveries that were decided but not confirmed: they are
sent again (at least once; receivers dedupe on the idempotency key), and nothing else is.

Durability: the step transactions run with ``synchronous=FULL`` (on disk before ``commit``
returns, power loss included). The delivered marks use a second connection with
``synchronous=NORMAL``: in WAL mode that survives a killed process (the data is in the WAL file
the moment ``commit`` returns) and can only be lost to a power cut, which costs at most a
re-send of deliveries confirmed in the last instants, never a lost one.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from alerting.codec import delivery_from_json, delivery_to_json
from alerting.model import Delivery, EventKind, Step

__all__ = ["SCHEMA_VERSION", "Journal", "OutboxRow"]

SCHEMA_VERSION = 1
Row = tuple[str, str, Any]
Sync = Literal["full", "normal"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS state (
    part TEXT NOT NULL, id TEXT NOT NULL, data TEXT NOT NULL, PRIMARY KEY (part, id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS transitions (
    seq INTEGER PRIMARY KEY, at REAL NOT NULL, key TEXT NOT NULL, version INTEGER NOT NULL,
    reason TEXT NOT NULL, grade TEXT NOT NULL, is_drill INTEGER NOT NULL, notice TEXT NOT NULL,
    UNIQUE (key, version)
);
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY, key TEXT NOT NULL, version INTEGER NOT NULL,
    officer TEXT NOT NULL, channel TEXT NOT NULL, created REAL NOT NULL,
    grade TEXT NOT NULL, reason TEXT NOT NULL, is_drill INTEGER NOT NULL,
    delivery TEXT NOT NULL, status TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0, done_at REAL, error TEXT,
    UNIQUE (key, version, officer, channel)
);
CREATE INDEX IF NOT EXISTS outbox_pending ON outbox (status) WHERE status = 'pending';
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY, at REAL NOT NULL, kind TEXT NOT NULL, key TEXT NOT NULL,
    officer TEXT NOT NULL, data TEXT NOT NULL
);
"""


@dataclass(frozen=True, slots=True)
class OutboxRow:
    id: int
    delivery: Delivery
    created: float


def _connect(path: Path, sync: Sync) -> sqlite3.Connection:
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=10.0)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute(f"PRAGMA synchronous={sync.upper()}")
    return db


class Journal:
    """The journal file at ``path`` (created with its folder if missing).

    Used from one thread (the runtime's event loop); ``check_same_thread`` is off only so a
    test or a report may close it from another.
    """

    def __init__(self, path: Path, *, sync: Sync = "full") -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._db = _connect(path, sync)
        self._db.executescript(_SCHEMA)
        found = self._db.execute("SELECT value FROM meta WHERE name = 'schema'").fetchone()
        if found is None:
            self._db.execute("INSERT INTO meta VALUES ('schema', ?)", (str(SCHEMA_VERSION),))
        elif int(found[0]) != SCHEMA_VERSION:
            raise ValueError(f"{path}: journal schema {found[0]} is not {SCHEMA_VERSION}")
        self._marks = _connect(path, "normal")

    def close(self) -> None:
        self._marks.close()
        self._db.close()

    # ---- read back --------------------------------------------------------------------------

    def state_rows(self) -> list[Row]:
        rows = self._db.execute("SELECT part, id, data FROM state ORDER BY part, id")
        return [(part, ident, json.loads(data)) for part, ident, data in rows]

    def pending(self) -> list[OutboxRow]:
        """Deliveries decided but not confirmed, in the order they were decided."""
        rows = self._db.execute(
            "SELECT id, delivery, created FROM outbox WHERE status = 'pending' ORDER BY id"
        )
        return [OutboxRow(i, delivery_from_json(json.loads(d)), c) for i, d, c in rows]

    # ---- write ------------------------------------------------------------------------------

    def commit(self, step: Step, rows: Sequence[Row], now: float) -> list[OutboxRow]:
        """Write the step and the changed state in one transaction; return the new outbox rows
        (a delivery already in the outbox is not returned twice)."""
        created: list[OutboxRow] = []
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            for part, ident, data in rows:
                if data is None:
                    db.execute("DELETE FROM state WHERE part = ? AND id = ?", (part, ident))
                else:
                    db.execute(
                        "INSERT OR REPLACE INTO state VALUES (?, ?, ?)",
                        (part, ident, json.dumps(data, separators=(",", ":"))),
                    )
            db.executemany(
                "INSERT OR IGNORE INTO transitions (at, key, version, reason, grade, is_drill, "
                "notice) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        now,
                        str(n.key),
                        n.version,
                        n.reason.value,
                        n.grade.value,
                        int(n.is_drill),
                        json.dumps(n.to_json(), ensure_ascii=False),
                    )
                    for n in step.notices
                ],
            )
            events = [
                (now, e.kind.value, e.key, e.officer, json.dumps(e.data, ensure_ascii=False))
                for e in step.events
            ] + [
                (
                    now,
                    EventKind.SUPPRESSED.value,
                    str(s.key),
                    s.officer,
                    json.dumps(
                        {"reason": s.reason.value, "version": s.version, "channel": s.channel}
                    ),
                )
                for s in step.suppressed
            ]
            db.executemany(
                "INSERT INTO events (at, kind, key, officer, data) VALUES (?, ?, ?, ?, ?)", events
            )
            for delivery in step.deliveries:
                key, version, officer, channel = delivery.outbox_key
                notice = delivery.notice
                cursor = db.execute(
                    "INSERT OR IGNORE INTO outbox (key, version, officer, channel, created, "
                    "grade, reason, is_drill, delivery) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        key,
                        version,
                        officer,
                        channel,
                        now,
                        notice.grade.value,
                        notice.reason.value,
                        int(notice.is_drill),
                        json.dumps(delivery_to_json(delivery), ensure_ascii=False),
                    ),
                )
                if cursor.rowcount == 1 and cursor.lastrowid is not None:
                    created.append(OutboxRow(cursor.lastrowid, delivery, now))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return created

    def mark(
        self, row_id: int, status: str, attempts: int, at: float, error: str | None = None
    ) -> None:
        """Final outcome of one outbox row: ``delivered``, ``failed`` or ``blocked``."""
        self._marks.execute(
            "UPDATE outbox SET status = ?, attempts = ?, done_at = ?, error = ? WHERE id = ?",
            (status, attempts, at, error, row_id),
        )

    # ---- for the report and the API ---------------------------------------------------------

    def query(self, sql: str, params: Iterable[Any] = ()) -> list[tuple[Any, ...]]:
        return list(self._db.execute(sql, tuple(params)))
