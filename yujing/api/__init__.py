"""The HTTP API of the embedded runtime (``server``: acknowledgement, feedback, silences,
alerts, health, CAP feed) and its command-line clients (``cli``). See docs/api.md."""
