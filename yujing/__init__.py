"""yujing (预警): real-time IoT monitoring and graded early warning.

The application package: CLI, settings, runtimes, metrics. Domain logic lives in the stage
packages ``ingest``, ``detectors`` and ``alerting``; the contract types they exchange live in
:mod:`yujing.contracts` (see docs/decisions/0001-contract-types-home.md).
"""

__version__ = "0.1.0"
