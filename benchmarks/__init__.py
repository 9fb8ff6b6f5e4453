"""Benchmarks of nanobot, run as modules (``python -m benchmarks.transport``); see
docs/performance.md for what each one measures and the figures measured so far."""
