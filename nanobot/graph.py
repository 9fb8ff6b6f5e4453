"""Graphs: which nodes run, with which params and topics, where; checked before anything starts.

A graph is built in Python (Graph().add(...)) or loaded from a YAML file (load(path)):

    graph: demo                       # the graph's name (ipc paths and tools use it)
    seed: 0                           # optional: seeds every node's rng
    hosts:                            # optional: for graphs spread over several machines
      board: {address: 192.168.55.1, port_base: 7600}
    nodes:
      camera:                         # node name
        class: nanobot.nodes.demo:PatternCamera
        params: {width: 640, height: 480, fps: 30}
        remap: {image: camera/image}  # port name -> topic
        group: vision                 # nodes of one group share a process
        host: board                   # required when hosts are declared
        restart: on-failure           # never (default), on-failure, always

Every problem found is reported at once, each as one sentence naming the file and line, the
node and the topic.
"""

import collections
import importlib

import yaml

from .endpoints import NAME, inproc_endpoint, ipc_endpoint
from .node import HEARTBEAT_TOPIC, Node, ParamError

RESTART_POLICIES = ("never", "on-failure", "always")
NODE_KEYS = ("class", "params", "remap", "group", "host", "restart")
GRAPH_KEYS = ("graph", "seed", "hosts", "nodes")
DEFAULT_PORT_BASE = 7600


class GraphError(Exception):
    """A graph that cannot run; `problems` lists every problem found, one sentence each."""

    def __init__(self, problems):
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


class NodeSpec:
    """One node of a graph: its class and how it is configured and placed."""

    def __init__(
        self, name, cls, params=None, remap=None, group=None, host=None, restart="never", where=""
    ):
        self.name = name
        self.cls = cls
        self.params = dict(params or {})
        self.remap = dict(remap or {})
        self.group = group or name
        self.host = host
        self.restart = restart
        self.where = where  # "file:line: " for messages

    @property
    def class_path(self):
        return "%s:%s" % (self.cls.__module__, self.cls.__qualname__)

    def topic(self, port):
        spec = self.cls.inputs.get(port) or self.cls.outputs[port]
        return self.remap.get(port, spec.topic)

    def inputs(self):
        """[(port name, topic, Input)]"""
        return [(n, self.topic(n), s) for n, s in self.cls.inputs.items()]

    def outputs(self):
        """[(port name, topic, Output)]"""
        return [(n, self.topic(n), s) for n, s in self.cls.outputs.items()]

    def resolved_params(self):
        """Every param of the node: the given values over the class's defaults."""
        values = {name: p.default for name, p in self.cls.params.items()}
        values.update(self.params)
        return values

    def create(self, seed=0):
        """A new instance of the node, configured."""
        return self.cls(self.name, self.params, self.remap, seed)


class Graph:
    """A set of named nodes; see the module docstring."""

    def __init__(self, name="graph", seed=0, hosts=None, source=None):
        if not NAME.match(name):
            raise GraphError(["graph name %r must be letters, digits, '_', '-', '.'" % (name,)])
        self.name = name
        self.seed = seed
        self.hosts = dict(hosts or {})
        self.source = source
        self.nodes = collections.OrderedDict()

    def add(
        self,
        cls,
        name=None,
        params=None,
        remap=None,
        group=None,
        host=None,
        restart="never",
        where="",
    ):
        """Add a node of class `cls`; returns its NodeSpec."""
        name = name or cls.__name__.lower()
        if name in self.nodes:
            raise GraphError(["%sthere is already a node named %r" % (where, name)])
        spec = NodeSpec(name, cls, params, remap, group, host, restart, where)
        self.nodes[name] = spec
        return spec

    def set_param(self, node, param, value):
        """Override one param (the CLI's --set node.param=value)."""
        if node not in self.nodes:
            raise GraphError(
                ["--set %s.%s: no node %r; nodes: %s" % (node, param, node, ", ".join(self.nodes))]
            )
        self.nodes[node].params[param] = value

    # ---- questions

    def publishers(self, topic):
        """[(NodeSpec, port name, Output)] publishing `topic`."""
        if topic == HEARTBEAT_TOPIC:
            return [(n, None, None) for n in self.nodes.values()]
        return [(n, p, o) for n in self.nodes.values() for p, t, o in n.outputs() if t == topic]

    def topics(self):
        """{topic: message type name} for every published topic."""
        return collections.OrderedDict(
            (t, o.msg_type.type_name) for n in self.nodes.values() for _, t, o in n.outputs()
        )

    def groups(self, host=None):
        """{group: [NodeSpec]} of the nodes on `host` (all nodes when None)."""
        out = collections.OrderedDict()
        for n in self.nodes.values():
            if host is None or n.host == host:
                out.setdefault(n.group, []).append(n)
        return out

    # ---- checking

    def check(self):
        """Raise GraphError listing every problem; return self when the graph can run."""
        problems = []
        for n in self.nodes.values():
            problems.extend(self._check_node(n))
        if problems:  # port checks need sound node specs
            raise GraphError(problems)
        for n in self.nodes.values():
            for port, topic, spec in n.inputs():
                pubs = self.publishers(topic)
                if not pubs:
                    problems.append(
                        "%snode %r input %r: no node publishes topic %r (published topics: %s)"
                        % (n.where, n.name, port, topic, ", ".join(self.topics()) or "none")
                    )
                for pn, _, out in pubs:
                    if out is not None and not issubclass(out.msg_type, spec.msg_type):
                        problems.append(
                            "%snode %r input %r expects %s on topic %r, but node %r publishes %s"
                            % (
                                n.where,
                                n.name,
                                port,
                                spec.msg_type.type_name,
                                topic,
                                pn.name,
                                out.msg_type.type_name,
                            )
                        )
        for group, members in self.groups().items():
            first = members[0]
            for n in members[1:]:
                if (n.host, n.restart) != (first.host, first.restart):
                    problems.append(
                        "%snode %r shares group %r with node %r but not its host and restart "
                        "policy (a group is one process)" % (n.where, n.name, group, first.name)
                    )
        problems.extend(self._check_pins())
        claimed = collections.OrderedDict()
        for n in self.nodes.values():
            for _, topic, out in n.outputs():
                claimed.setdefault(topic, []).append((n, out))
        for topic, owners in claimed.items():
            if len(owners) > 1 and not all(out.shared for _, out in owners):
                names = ", ".join(repr(n.name) for n, _ in owners)
                problems.append(
                    "%stopic %r is published by nodes %s; remap one of them, or declare the "
                    "output shared=True in every class" % (owners[-1][0].where, topic, names)
                )
        if problems:
            raise GraphError(problems)
        return self

    def pins(self, host=None):
        """{BOARD pin: (node name, use)} of the header pins the nodes on `host` would use."""
        found = {}
        for n in self.nodes.values():
            if host is None or n.host == host:
                for pin, use in n.cls.pins(n.resolved_params()).items():
                    found.setdefault(pin, (n.name, use))
        return found

    def _check_pins(self):
        problems = []
        by_host = collections.defaultdict(dict)
        for n in self.nodes.values():
            try:
                pins = n.cls.pins(n.resolved_params())
            except Exception as e:  # e.g. a wiring file that does not load
                problems.append("%snode %r: %s" % (n.where, n.name, e))
                continue
            for pin, use in pins.items():
                other = by_host[n.host].get(pin)
                if other is not None and other[0] != n.name:
                    problems.append(
                        "%snode %r uses header pin %d (%s), which node %r already uses (%s)"
                        % (n.where, n.name, pin, use, other[0], other[1])
                    )
                by_host[n.host].setdefault(pin, (n.name, use))
        return problems

    def _check_node(self, n):
        problems = []
        where = "%snode %r" % (n.where, n.name)
        if not NAME.match(n.name):
            problems.append("%s: the name must be letters, digits, '_', '-', '.'" % where)
        if n.restart not in RESTART_POLICIES:
            problems.append(
                "%s: restart %r is not one of %s" % (where, n.restart, ", ".join(RESTART_POLICIES))
            )
        if self.hosts and n.host not in self.hosts:
            problems.append(
                "%s: host %r is not one of the graph's hosts (%s)"
                % (where, n.host, ", ".join(self.hosts))
            )
        elif not self.hosts and n.host is not None:
            problems.append("%s: names host %r but the graph declares no hosts" % (where, n.host))
        ports = set(n.cls.inputs) | set(n.cls.outputs)
        for port in sorted(set(n.remap) - ports):
            problems.append(
                "%s: cannot remap %r; %s has ports %s"
                % (where, port, n.cls.__name__, ", ".join(sorted(ports)) or "none")
            )
        for pname, value in n.params.items():
            spec = n.cls.params.get(pname)
            if spec is None:
                problems.append(
                    "%s: %s has no param %r (params: %s)"
                    % (where, n.cls.__name__, pname, ", ".join(n.cls.params) or "none")
                )
                continue
            try:
                spec.check(value)
            except ParamError as e:
                problems.append("%s: %s" % (where, e))
        return problems

    # ---- endpoints

    def tcp_ports(self):
        """{(node, topic): port} for multi-host graphs, assigned in file order per host."""
        ports = {}
        next_port = {
            h: int(cfg.get("port_base", DEFAULT_PORT_BASE)) for h, cfg in self.hosts.items()
        }
        for n in self.nodes.values():
            for topic in [t for _, t, _ in n.outputs()] + [HEARTBEAT_TOPIC]:
                ports[(n.name, topic)] = next_port[n.host]
                next_port[n.host] += 1
        return ports

    def plan(self, node_name):
        """Endpoints for one node: {port name or heartbeat topic: [endpoint, ...]}.

        Inputs connect over inproc:// to publishers in their own group (their process), over
        ipc:// to the others on their host; outputs bind both. With hosts declared, outputs also
        bind tcp on their host and inputs connect over tcp to publishers on other hosts.
        """
        n = self.nodes[node_name]
        ports = self.tcp_ports() if self.hosts else {}

        def bind(topic):
            eps = [ipc_endpoint(self.name, n.name, topic)]
            eps.append(inproc_endpoint(self.name, n.name, topic))
            if ports:
                eps.append("tcp://*:%d" % ports[(n.name, topic)])
            return eps

        plan = {port: bind(topic) for port, topic, _ in n.outputs()}
        plan[HEARTBEAT_TOPIC] = bind(HEARTBEAT_TOPIC)
        for port, topic, _ in n.inputs():
            eps = []
            for pub, _, _ in self.publishers(topic):
                if self._same_process(pub, n):
                    eps.append(inproc_endpoint(self.name, pub.name, topic))
                elif not ports or pub.host == n.host:
                    eps.append(ipc_endpoint(self.name, pub.name, topic))
                else:
                    eps.append(
                        "tcp://%s:%d" % (self.hosts[pub.host]["address"], ports[(pub.name, topic)])
                    )
            plan[port] = eps
        return plan

    @staticmethod
    def _same_process(a, b):
        """True when nodes `a` and `b` run in one process (one group, on one host)."""
        return (a.group, a.host) == (b.group, b.host)

    # ---- serialisation (how the process executor hands a graph to its workers)

    def to_dict(self):
        return {
            "graph": self.name,
            "seed": self.seed,
            "hosts": self.hosts,
            "nodes": [
                {
                    "name": n.name,
                    "class": n.class_path,
                    "params": n.params,
                    "remap": n.remap,
                    "group": n.group,
                    "host": n.host,
                    "restart": n.restart,
                }
                for n in self.nodes.values()
            ],
        }

    @classmethod
    def from_dict(cls, d):
        graph = cls(d["graph"], d.get("seed", 0), d.get("hosts"))
        for n in d["nodes"]:
            graph.add(
                import_class(n["class"]),
                n["name"],
                n["params"],
                n["remap"],
                n["group"],
                n["host"],
                n["restart"],
            )
        return graph

    # ---- views

    def describe(self):
        """The graph as text: nodes with their class, placement, params and topics."""
        lines = ["graph %s (%d nodes)" % (self.name, len(self.nodes))]
        for n in self.nodes.values():
            place = "group %s" % n.group + (", host %s" % n.host if n.host else "")
            lines.append("  %s  [%s]  (%s, restart %s)" % (n.name, n.class_path, place, n.restart))
            for pname, p in n.cls.params.items():
                lines.append("      param  %s = %r" % (pname, n.params.get(pname, p.default)))
            for port, topic, s in n.inputs():
                near = [p.name for p, _, _ in self.publishers(topic) if self._same_process(p, n)]
                lines.append(
                    "      in     %-12s <- %s  (%s, %s%s)"
                    % (port, topic, s.msg_type.type_name, s.policy,
                       ", in-process from %s" % ", ".join(near) if near else "")
                )  # fmt: skip
            for port, topic, s in n.outputs():
                lines.append("      out    %-12s -> %s  (%s)" % (port, topic, s.msg_type.type_name))
        return "\n".join(lines)

    def to_dot(self):
        """The graph in Graphviz dot: nodes as boxes, topics as ellipses."""
        out = ["digraph %s {" % _dot_id(self.name), "  rankdir=LR;"]
        for topic, type_name in self.topics().items():
            out.append(
                '  %s [shape=ellipse, label="%s\\n%s"];' % (_dot_id("t:" + topic), topic, type_name)
            )
        for n in self.nodes.values():
            out.append(
                '  %s [shape=box, label="%s\\n%s"];'
                % (_dot_id("n:" + n.name), n.name, n.cls.__name__)
            )
            for _, topic, _ in n.outputs():
                out.append("  %s -> %s;" % (_dot_id("n:" + n.name), _dot_id("t:" + topic)))
            for _, topic, _ in n.inputs():
                out.append("  %s -> %s;" % (_dot_id("t:" + topic), _dot_id("n:" + n.name)))
        out.append("}")
        return "\n".join(out)


def _dot_id(text):
    return '"%s"' % text.replace('"', '\\"')


# ---------------------------------------------------------------- files


class _Mapping(dict):
    """A YAML mapping that remembers the line of each key."""

    lines = None


class _Loader(yaml.SafeLoader):
    pass


def _construct_mapping(loader, node):
    loader.flatten_mapping(node)
    result = _Mapping()
    result.lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        line = key_node.start_mark.line + 1
        if key in result:
            raise GraphError(
                [
                    "%s:%d: %r appears twice (first at line %d)"
                    % (key_node.start_mark.name, line, key, result.lines[key])
                ]
            )
        result[key] = loader.construct_object(value_node, deep=True)
        result.lines[key] = line
    return result


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def import_class(path, where=""):
    """The Node class at 'module:Class'; raises GraphError saying what is wrong."""
    module_name, _, qualname = path.partition(":")
    if not module_name or not qualname:
        raise GraphError(["%sclass %r must be written 'module:Class'" % (where, path)])
    try:
        obj = importlib.import_module(module_name)
    except ImportError as e:
        raise GraphError(
            ["%sunknown class %r: cannot import %s (%s)" % (where, path, module_name, e)]
        ) from None
    for part in qualname.split("."):
        obj = getattr(obj, part, None)
        if obj is None:
            raise GraphError(
                ["%sunknown class %r: module %s has no %s" % (where, path, module_name, qualname)]
            )
    if not (isinstance(obj, type) and issubclass(obj, Node)):
        raise GraphError(["%s%r is not a nanobot Node class" % (where, path)])
    return obj


def parse_value(text):
    """A --set value: YAML scalar syntax (1, 2.5, true, [1, 2], text)."""
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return text


def load(path, overrides=()):
    """Load and check the graph file at `path`; `overrides` are 'node.param=value' strings."""
    try:
        with open(path) as f:
            doc = yaml.load(f, Loader=_Loader)
    except OSError as e:
        raise GraphError(["cannot read graph file %s: %s" % (path, e.strerror)]) from None
    except yaml.YAMLError as e:
        raise GraphError(["%s is not valid YAML: %s" % (path, str(e).replace("\n", " "))]) from None
    if not isinstance(doc, dict):
        raise GraphError(["%s: a graph file is a mapping with 'graph' and 'nodes'" % path])

    def at(mapping, key):
        return "%s:%s: " % (path, mapping.lines.get(key, "?") if mapping.lines else "?")

    problems = [
        "%sunknown key %r (allowed: %s)" % (at(doc, k), k, ", ".join(GRAPH_KEYS))
        for k in doc
        if k not in GRAPH_KEYS
    ]
    nodes = doc.get("nodes")
    if not isinstance(doc.get("graph"), str) or not isinstance(nodes, dict) or not nodes:
        problems.append("%s: needs 'graph: <name>' and a non-empty 'nodes:' mapping" % path)
        raise GraphError(problems)
    hosts = doc.get("hosts") or {}
    for h, cfg in hosts.items():
        if not isinstance(cfg, dict) or not isinstance(cfg.get("address"), str):
            problems.append("%shost %r needs an 'address'" % (at(hosts, h), h))
    graph = Graph(doc["graph"], int(doc.get("seed", 0)), hosts, source=path)
    for name, entry in nodes.items():
        where = at(nodes, name)
        if not isinstance(entry, dict) or "class" not in entry:
            problems.append("%snode %r needs a 'class: module:Class'" % (where, name))
            continue
        unknown = [k for k in entry if k not in NODE_KEYS]
        if unknown:
            problems.append(
                "%snode %r: unknown key(s) %s (allowed: %s)"
                % (where, name, ", ".join(map(repr, unknown)), ", ".join(NODE_KEYS))
            )
            continue
        try:
            cls = import_class(entry["class"], where + "node %r: " % name)
        except GraphError as e:
            problems.extend(e.problems)
            continue
        graph.add(
            cls,
            str(name),
            entry.get("params"),
            entry.get("remap"),
            entry.get("group"),
            entry.get("host"),
            entry.get("restart", "never"),
            where,
        )
    if problems:
        raise GraphError(problems)
    for item in overrides:
        target, eq, value = item.partition("=")
        node, dot, param = target.partition(".")
        if not eq or not dot:
            raise GraphError(["--set %r must be written node.param=value" % item])
        graph.set_param(node, param, parse_value(value))
    return graph.check()
