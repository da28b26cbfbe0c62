"""Prometheus metrics of one runtime (catalogue: docs/metrics.md).

Each runtime owns a :class:`Metrics` with its own ``CollectorRegistry`` so several runtimes (tests,
benchmarks) can live in one process. Metrics observe; nothing on the alert path waits on them.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric

from yujing.native import running_native

if TYPE_CHECKING:
    from detectors.completeness import CompletenessRow

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300)


class Metrics:
    """All metric families, registered on ``self.registry``."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.ingested = Counter(
            "yujing_readings_ingested", "Readings accepted by ingest", ["kind"], registry=r
        )
        self.rejected = Counter(
            "yujing_readings_rejected",
            "Messages refused by ingest, by reason (same label as the dead letter)",
            ["reason"],
            registry=r,
        )
        self.findings = Counter(
            "yujing_findings", "Findings emitted by detectors", ["hazard", "grade"], registry=r
        )
        self.notices = Counter(
            "yujing_notices",
            "Alert transitions (notices) emitted by the alert book",
            ["hazard", "grade", "reason"],
            registry=r,
        )
        self.alerts_active = Gauge(
            "yujing_alerts_active", "Alerts currently firing", ["hazard", "grade"], registry=r
        )
        self.end_to_end_latency = Histogram(
            "yujing_end_to_end_latency_seconds",
            "Sensor event time of the causing reading to notice emitted, per hazard",
            ["hazard"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.deliveries = Counter(
            "yujing_notifications",
            "Notification attempts by channel and outcome (delivered, retry, failed)",
            ["channel", "outcome"],
            registry=r,
        )
        self.delivery_latency = Histogram(
            "yujing_notification_latency_seconds",
            "Notice emitted to delivery confirmed, per channel",
            ["channel"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.queue_depth = Gauge(
            "yujing_queue_depth", "Items waiting in an internal queue", ["queue"], registry=r
        )
        self.mqtt_subscribed = Gauge(
            "yujing_mqtt_subscribed",
            "1 while the runtime is subscribed to its broker (what /readyz answers), else 0",
            registry=r,
        )
        self.mqtt_connects = Gauge(
            "yujing_mqtt_connects",
            "Connections made to the broker since start (more than 1: it reconnected)",
            registry=r,
        )
        self.mqtt_receiver_restarts = Gauge(
            "yujing_mqtt_receiver_restarts",
            "Times the MQTT receiver process died and was started again (mqtt.receiver: process)",
            registry=r,
        )
        self.detector_errors = Counter(
            "yujing_detector_errors",
            "Detector calls that raised (the reading is kept, the other stations go on)",
            ["detector"],
            registry=r,
        )
        self.batch_seconds = Histogram(
            "yujing_pipeline_batch_seconds",
            "Wall time to decode, detect and grade one batch of messages",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.detectors_compiled = Gauge(
            "yujing_detectors_compiled",
            "1 when the detectors run compiled by mypyc (yujing.native), 0 interpreted",
            registry=r,
        )
        self.detectors_compiled.set(1 if running_native() else 0)
        # ---- detectors: completeness (detectors/completeness.py), set on a tick ---------------
        self.completeness = CompletenessGauges()
        r.register(self.completeness)
        # ---- alerting: journal, call and response (docs/alerting.md) ------------------------
        self.journal_seconds = Histogram(
            "yujing_alert_journal_commit_seconds",
            "Wall time of one alerting journal transaction (state, transitions, outbox)",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.alert_deliver_seconds = Histogram(
            "yujing_alert_deliver_seconds",
            "Outbox row written to delivery confirmed (runtime clock), per grade and channel",
            ["grade", "channel"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.alert_suppressed = Counter(
            "yujing_alert_suppressed",
            "Notices or deliveries held back, by reason (silenced, inhibited, flapping, …)",
            ["reason"],
            registry=r,
        )
        self.alert_pages = Counter(
            "yujing_alert_pages",
            "Pages that need an acknowledgement (orange/red fired or upgraded), per grade",
            ["grade"],
            registry=r,
        )
        self.alert_ack_seconds = Histogram(
            "yujing_alert_ack_seconds",
            "Page to acknowledgement, per paged grade",
            ["grade"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.alert_reached = Counter(
            "yujing_alert_reached",
            "Pages acknowledged within the reach target (300 s), per paged grade",
            ["grade"],
            registry=r,
        )
        self.alert_escalations = Counter(
            "yujing_alert_escalations",
            "Escalations to the next officer and reminders after the chain ran out",
            ["grade", "reason"],
            registry=r,
        )
        self.api_requests = Counter(
            "yujing_api_requests",
            "HTTP API requests by route and status code",
            ["route", "status"],
            registry=r,
        )
        # ---- storage writer (docs/storage.md); its queue is yujing_queue_depth{queue="storage"}
        self.storage_written = Counter(
            "yujing_storage_points_written",
            "Points the time-series database accepted, per measurement",
            ["measurement"],
            registry=r,
        )
        self.storage_dropped = Counter(
            "yujing_storage_points_dropped",
            "Points given up on, by reason (queue_full, rejected, shutdown)",
            ["reason"],
            registry=r,
        )
        self.storage_errors = Counter(
            "yujing_storage_write_errors",
            "Failed write requests, by error (connection, timeout, http_<status>)",
            ["error"],
            registry=r,
        )
        self.storage_write_seconds = Histogram(
            "yujing_storage_write_seconds",
            "Wall time of one write request to the time-series database, success or not",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.storage_up = Gauge(
            "yujing_storage_up",
            "1 when the last write request succeeded, 0 when it failed or none was made yet",
            registry=r,
        )
        self.storage_last_success = Gauge(
            "yujing_storage_last_success_timestamp_seconds",
            "Wall time (epoch s) of the last successful write request",
            registry=r,
        )
        self.storage_queue_limit = Gauge(
            "yujing_storage_queue_limit_points",
            "Bound of the storage write queue, in points (drops start beyond it)",
            registry=r,
        )
        # ---- scale-out runtime: bridge and Faust agents (docs/operations.md) -----------------
        self.agent_events = Counter(
            "yujing_agent_events",
            "Records an agent finished, by agent and record type (reading, tick, finding, …)",
            ["agent", "type"],
            registry=r,
        )
        self.agent_errors = Counter(
            "yujing_agent_errors",
            "Records an agent failed on (counted, dead-lettered, skipped), by agent",
            ["agent"],
            registry=r,
        )
        self.agent_replayed = Counter(
            "yujing_agent_replayed",
            "Records skipped because their effect is already in the state (replays)",
            ["agent"],
            registry=r,
        )
        self.agent_alive = Gauge(
            "yujing_agent_last_event_timestamp_seconds",
            "Wall time an agent last finished a record or a tick (liveness)",
            ["agent"],
            registry=r,
        )
        self.bridge_produced = Counter(
            "yujing_bridge_produced",
            "Readings Kafka confirmed (acks=all) before their MQTT acknowledgement",
            registry=r,
        )
        self.bridge_inflight = Gauge(
            "yujing_bridge_inflight",
            "Readings handed to the Kafka producer and not yet confirmed",
            registry=r,
        )
        self.bridge_produce_seconds = Histogram(
            "yujing_bridge_produce_seconds",
            "Wall time from handing a batch to the producer to Kafka confirming all of it",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )


class CompletenessGauges:
    """``yujing_station_completeness_ratio`` and ``yujing_district_completeness_ratio``: the
    rows of the last :meth:`set`, served when scraped.

    Why a collector, not two labelled gauges: a city has thousands of stations, and a labelled
    gauge costs a child object per station and microseconds per ``set``, all on the event loop
    (the first tick after a start spent 160 ms creating children); here a tick hands over its
    rows, and a scrape reads them.
    """

    def __init__(self) -> None:
        self._stations: Sequence[CompletenessRow] = ()
        self._districts: Sequence[CompletenessRow] = ()

    def set(
        self, stations: Sequence[CompletenessRow], districts: Sequence[CompletenessRow]
    ) -> None:
        """Replace the rows (one assignment each: a scrape on another thread sees old or new)."""
        self._stations, self._districts = stations, districts

    def collect(self) -> Iterator[Metric]:
        station = GaugeMetricFamily(
            "yujing_station_completeness_ratio",
            "Reports received / expected over the last hour (at least 10 intervals), per station",
            labels=["station", "district", "kind"],
        )
        for row in self._stations:
            station.add_metric([row.station or "", row.district, row.kind], row.ratio)
        yield station
        district = GaugeMetricFamily(
            "yujing_district_completeness_ratio",
            "Reports received / expected over the last hour, summed over a district's stations "
            "of a kind (kind=all: every station of the district)",
            labels=["district", "kind"],
        )
        for row in self._districts:
            district.add_metric([row.district, row.kind], row.ratio)
        yield district
