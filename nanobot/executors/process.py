"""The process executor: one OS process per node (or per named group), supervised.

    status = ProcessExecutor(graph).run(until=10)

The supervisor starts a worker process per group, restarts a worker that ends according to
its nodes' restart policy (never; on-failure with backoff; always), and stops the graph when
asked (SIGINT/SIGTERM, `until` seconds elapsed, a node's request_shutdown(), or stop()): every
worker gets SIGTERM and runs its nodes' teardown(); one that has not exited after
`stop_timeout` seconds is killed. run() returns 0 when the graph ended cleanly, 1 otherwise.
"""

import json
import logging
import os
import queue
import signal
import subprocess
import sys
import threading
import time

from .. import endpoints
from .worker import SHUTDOWN_REQUESTED

log = logging.getLogger("nanobot.supervisor")

BACKOFF_FIRST = 0.5
BACKOFF_MAX = 30.0
HEALTHY_AFTER = 30.0  # a worker up this long has its backoff reset


class Worker:
    """One supervised process: a group of nodes."""

    def __init__(self, group, nodes):
        self.group = group
        self.nodes = nodes  # [NodeSpec]
        self.restart = nodes[0].restart
        self.proc = None
        self.started = 0.0
        self.restarts = 0
        self.backoff = BACKOFF_FIRST
        self.returncode = None

    def __str__(self):
        names = ", ".join(n.name for n in self.nodes)
        return "group %r (%s)" % (self.group, names) if names != self.group else "node %r" % names


class ProcessExecutor:
    """Runs `graph` (a checked nanobot.graph.Graph) as processes; see the module docstring."""

    def __init__(self, graph, host=None, stop_timeout=5.0, log_level="INFO"):
        self.graph = graph
        self.host = host
        self.stop_timeout = stop_timeout
        self.log_level = log_level
        groups = graph.groups(host)
        if not groups:
            raise ValueError(
                "no node of graph %r runs on host %r (hosts: %s)"
                % (graph.name, host, ", ".join(graph.hosts) or "none")
            )
        self.workers = [Worker(g, nodes) for g, nodes in groups.items()]
        self._events = queue.Queue()  # (worker, returncode) as processes end
        self._stop_reason = None
        self.failed = False

    def stop(self, reason="stop requested"):
        """Ask run() to stop the graph (thread-safe, signal-safe)."""
        if self._stop_reason is None:
            self._stop_reason = reason

    def run(self, until=None):
        """Start the graph and supervise it until it stops, or for `until` seconds at most
        (as SimExecutor.run(until=) runs for that much virtual time); returns the exit status."""
        endpoints.prepare(self.graph.name)
        previous = _install_signal_handlers(self.stop)
        deadline = None if until is None else time.monotonic() + until
        try:
            for w in self.workers:
                self._spawn(w)
            self._supervise(deadline)
        finally:
            self._stop_all()
            _restore_signal_handlers(previous)
            _remove_empty_dir(endpoints.graph_dir(self.graph.name))
        return 1 if self.failed else 0

    # ---- internals

    def _spawn(self, w):
        job = {
            "graph": self.graph.to_dict(),
            "group": w.group,
            "nodes": [n.name for n in w.nodes],
            "log_level": self.log_level,
        }
        env = dict(os.environ)
        # The worker must import the same node classes as this process does.
        env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
        w.proc = subprocess.Popen(
            [sys.executable, "-m", "nanobot.executors.worker"], stdin=subprocess.PIPE, env=env
        )
        try:
            w.proc.stdin.write(json.dumps(job).encode())
            w.proc.stdin.close()
        except BrokenPipeError:
            # Killed before it read its job (as it started: a crash loop killed again, the
            # OOM killer). Its exit comes as an event like any other; the policy applies.
            log.warning("%s (pid %d) ended before it read its job", w, w.proc.pid)
            try:
                w.proc.stdin.close()  # closes the pipe even when the flush fails again
            except BrokenPipeError:
                pass
        w.started = time.monotonic()
        w.returncode = None
        log.debug("started %s as pid %d", w, w.proc.pid)
        proc = w.proc
        threading.Thread(
            target=lambda: self._events.put((w, proc, proc.wait())), daemon=True
        ).start()

    def _supervise(self, deadline):
        pending_restarts = {}  # worker -> monotonic time to restart at
        while self._stop_reason is None:
            now = time.monotonic()
            if deadline is not None and now >= deadline:
                self.stop("time is up")
                break
            for w, at in list(pending_restarts.items()):
                if now >= at:
                    del pending_restarts[w]
                    self._spawn(w)
            if not pending_restarts and all(w.returncode is not None for w in self.workers):
                log.info("every process has ended")
                break
            # Short waits keep SIGINT handling prompt; process exits arrive as events.
            try:
                w, proc, code = self._events.get(timeout=0.2)
            except queue.Empty:
                continue
            if proc is not w.proc:
                continue  # an old process of a restarted worker
            w.returncode = code
            if code == SHUTDOWN_REQUESTED:
                self.stop("%s asked the graph to stop" % w)
                break
            if code != 0:
                self.failed = True
                log.error("%s exited with status %d", w, code)
            if w.restart == "always" or (w.restart == "on-failure" and code != 0):
                if time.monotonic() - w.started > HEALTHY_AFTER:
                    w.backoff = BACKOFF_FIRST
                log.warning("restarting %s in %.1f s (restart: %s)", w, w.backoff, w.restart)
                pending_restarts[w] = time.monotonic() + w.backoff
                w.backoff = min(w.backoff * 2, BACKOFF_MAX)
                w.restarts += 1
        if self._stop_reason:
            log.info("stopping graph %r: %s", self.graph.name, self._stop_reason)

    def _stop_all(self):
        running = [w for w in self.workers if w.proc is not None and w.proc.poll() is None]
        for w in running:
            w.proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + self.stop_timeout
        for w in running:
            try:
                code = w.proc.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                log.error("%s did not stop within %.1f s; killing it", w, self.stop_timeout)
                w.proc.kill()
                code = w.proc.wait()
                self.failed = True
            if code not in (0, SHUTDOWN_REQUESTED):
                log.error("%s exited with status %d while stopping", w, code)
                self.failed = True


def _install_signal_handlers(stop):
    if threading.current_thread() is not threading.main_thread():
        return None  # signals are delivered to the main thread only

    def handler(signum, frame):
        stop("received %s" % signal.Signals(signum).name)

    return {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}


def _restore_signal_handlers(previous):
    for s, h in (previous or {}).items():
        signal.signal(s, h)


def _remove_empty_dir(path):
    try:
        os.rmdir(path)
    except OSError:
        pass  # not empty (another run of the graph) or already gone
