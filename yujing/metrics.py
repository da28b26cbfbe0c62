"""Prometheus metrics of one runtime (catalogue: docs/metrics.md).

Each runtime owns a :class:`Metrics` with its own ``CollectorRegistry`` so several runtimes (tests,
benchmarks) can live in one process. Metrics observe; nothing on the alert path waits on them.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

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
        self.batch_seconds = Histogram(
            "yujing_pipeline_batch_seconds",
            "Wall time to decode, detect and grade one batch of messages",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
