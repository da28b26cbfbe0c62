"""The scale-out runtime (DESIGN §6, issue 7): Faust agents on Kafka running the embedded
runtime's objects. Needs the ``faust`` extra (``pip install -e '.[faust]'``).

- ``records`` — what travels on each topic, and to which partition;
- ``state`` — tables with explicit partitions, and checkpoints (why outputs come first);
- ``stations`` / ``network`` / ``alerts`` / ``notify`` — the stages, without Faust;
- ``plumbing`` / ``app`` / ``notifier`` / ``worker`` — Faust: apps, agents, the process.

Operations: docs/operations.md; decisions: docs/decisions/0002-faust-runtime.md.
"""
