"""Runtimes that wire ingest → detectors → alerting: embedded (default) and, later, Faust."""

from yujing.runtime.embedded import EmbeddedRuntime, RuntimeParts, load_parts

__all__ = ["EmbeddedRuntime", "RuntimeParts", "load_parts"]
