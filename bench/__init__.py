"""yujing's benchmarks (issue 8): one harness, ``python -m bench`` or ``scripts/bench``.

Every figure is reported next to a baseline measured in the same run on the same machine; see
``bench/README.md`` for what each benchmark measures and ``docs/performance.md`` for results.
"""
