"""Runtimes that wire ingest → detectors → alerting: embedded (default; one process) and the
scale-out one on Faust and Kafka (``yujing.runtime.bridge``, ``yujing.runtime.faust``;
docs/operations.md)."""

from yujing.runtime.embedded import EmbeddedRuntime, RuntimeParts, load_parts

__all__ = ["EmbeddedRuntime", "RuntimeParts", "load_parts"]
