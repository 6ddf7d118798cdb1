"""The benchmarks behind README.md's performance tables (smoke-tested by tests/test_bench_smoke.py)."""
