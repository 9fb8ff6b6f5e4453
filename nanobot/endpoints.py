"""Where topics live: inproc:// names in one process, ipc:// paths on one host, tcp://
addresses across hosts.

On one host every output of every node binds its own ipc socket at

    <ipc dir>/<graph>/<quoted topic>@<node>

so several nodes can publish one topic (a subscriber connects to each), nodes can start in
any order (ZeroMQ connects to a path that appears later), and tools can find publishers by
listing the directory. The ipc dir is $NANOBOT_IPC_DIR, else <tmp>/nanobot-<uid>.

Each output also binds inproc://<graph>/<quoted topic>@<node>, where the nodes of its group
(its process) connect: a message between two threads of one process then goes from the
sender's thread straight to the receiver's, with no ZeroMQ I/O thread or socket file on the
way (two thread wake-ups fewer per message).
"""

import glob
import os
import re
import tempfile
from urllib.parse import quote, unquote

# sun_path is 108 bytes on Linux; ZeroMQ needs the terminating NUL.
MAX_IPC_PATH = 107
NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")


def ipc_root():
    base = os.environ.get("NANOBOT_IPC_DIR")
    if base:
        return base
    uid = os.getuid() if hasattr(os, "getuid") else 0
    return os.path.join(tempfile.gettempdir(), "nanobot-%d" % uid)


def graph_dir(graph):
    return os.path.join(ipc_root(), graph)


def ipc_path(graph, node, topic):
    """The socket path for `node`'s output `topic` in `graph`."""
    path = os.path.join(graph_dir(graph), "%s@%s" % (quote(topic, safe=""), node))
    if len(path.encode()) > MAX_IPC_PATH:
        raise ValueError(
            "ipc path %r is %d bytes, over the %d a Unix socket allows: shorten the graph, node "
            "or topic name, or set NANOBOT_IPC_DIR to a shorter directory"
            % (path, len(path.encode()), MAX_IPC_PATH)
        )
    return path


def ipc_endpoint(graph, node, topic):
    return "ipc://" + ipc_path(graph, node, topic)


def inproc_endpoint(graph, node, topic):
    """The in-process endpoint of `node`'s output `topic` in `graph` (same process only)."""
    return "inproc://%s/%s@%s" % (graph, quote(topic, safe=""), node)


def on_this_host(endpoint):
    """True for endpoints whose publisher is on this host (ipc:// and inproc://)."""
    return endpoint.startswith(("ipc://", "inproc://"))


def prepare(graph):
    """Create the graph's ipc directory (private to this user)."""
    os.makedirs(graph_dir(graph), mode=0o700, exist_ok=True)


def discover(graph, topic=None):
    """Live publishers found on this host: a list of (topic, node, endpoint).

    A socket file left by a crashed process is listed too; connecting to it is harmless
    (ZeroMQ retries until a publisher binds there again).
    """
    found = []
    pattern = "%s@*" % quote(topic, safe="") if topic is not None else "*@*"
    for path in sorted(glob.glob(os.path.join(graph_dir(graph), pattern))):
        quoted, _, node = os.path.basename(path).rpartition("@")
        found.append((unquote(quoted), node, "ipc://" + path))
    return found


def graphs():
    """Names of graphs with an ipc directory on this host."""
    root = ipc_root()
    if not os.path.isdir(root):
        return []
    return sorted(d for d in os.listdir(root) if os.path.isdir(os.path.join(root, d)))
