"""Executors run a graph: `process` (the default: one OS process per node or group, on the
wall clock) and `sim` (all nodes in one process on a virtual clock, deterministic)."""
