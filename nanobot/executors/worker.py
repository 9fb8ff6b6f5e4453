"""One process of the process executor: runs a group of nodes, one thread each.

Started by the supervisor as `python -m nanobot.executors.worker` with a JSON job on stdin:
{"graph": Graph.to_dict(), "group": name, "nodes": [names], "log_level": "INFO"}.

Exit status: 0 stopped by a signal, SHUTDOWN_REQUESTED when a node asked the graph to stop,
FAILED when a node failed to start or its loop broke.
"""

import json
import logging
import signal
import sys
import threading

from .. import endpoints
from ..graph import Graph
from ..runtime import NodeThread

SHUTDOWN_REQUESTED = 3
FAILED = 1


def run_group(graph, names, stopped=lambda: False):
    """Start the nodes `names` of `graph`, run until `stopped()` turns true or a node asks
    to stop or fails; stop them all (teardown included) and return the exit status."""
    endpoints.prepare(graph.name)
    runners = []
    attention = threading.Event()
    try:
        for name in names:
            runner = NodeThread(graph.nodes[name].create(graph.seed), graph.plan(name))
            runner.attention = attention
            try:
                runner.start()
            except Exception as e:
                logging.getLogger("node." + name).error("failed to start: %s", e)
                runners.append(runner)
                return FAILED
            runners.append(runner)
        # Signal handlers only set a flag (taking a lock there could deadlock), so poll it.
        while not stopped() and not attention.wait(0.2):
            pass
        if any(r.shutdown_reason is not None for r in runners):
            return SHUTDOWN_REQUESTED
        if any(r.done.is_set() for r in runners):
            return FAILED
        return 0
    finally:
        for r in reversed(runners):
            if not r.stop():
                r.node.log.error("did not stop within its time; the process exits anyway")


def main():
    job = json.load(sys.stdin)
    logging.basicConfig(
        level=job.get("log_level", "INFO"),
        format="%(asctime)s.%(msecs)03d %(name)s %(levelname)s: %(message)s",
        datefmt="%H:%M:%S",
    )
    signalled = []

    def on_signal(signum, frame):
        signalled.append(signum)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    graph = Graph.from_dict(job["graph"])
    sys.exit(run_group(graph, job["nodes"], lambda: bool(signalled)))


if __name__ == "__main__":
    main()
