"""apps: applications built on nanobot, each a graph file plus its own nodes."""
