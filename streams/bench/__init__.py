"""Benchmarks of the service: per-stage throughput in process, end to end through the broker, memory.

``adsent bench --quick --out DIR`` writes ``DIR/result.json`` and ``DIR/report.md``. Benchmarks
write results and never gate anything on timing; ratios measured in the same run (matmul
efficiency, streaming overhead, scaling) are what to compare across noisy machines.
"""
