"""Stand-ins for the `tensorrt` and `pycuda.driver` modules, for machines without a GPU.

They are faithful to the real APIs where nanobot's backend touches them, so misuse fails here
as it fails on a Jetson:

- Two TensorRT generations. "8.2" (JetPack 4.6): bindings API (num_bindings,
  get_binding_shape, set_binding_shape, execute_async_v2), config.max_workspace_size, the
  EXPLICIT_BATCH network flag required by the ONNX parser; no named-tensor calls, no
  set_memory_pool_limit. "10": named tensors (num_io_tensors, set_input_shape,
  set_tensor_address, execute_async_v3), set_memory_pool_limit, IProgressMonitor; the
  binding calls and max_workspace_size are absent, as in TensorRT 10 (objects have
  __slots__ like pybind11 objects, so setting a removed attribute raises too).
- An engine "serializes" to MAGIC + a JSON header (TensorRT version, GPU, FP16) + the ONNX
  bytes; deserializing a plan of another version or GPU, or without the magic, logs TensorRT's
  error and returns None, as the real runtime does ("magic tag does not match").
- Engines compute real outputs: the ONNX model runs in ONNX Runtime behind the engine,
  reading its inputs from and writing its outputs to the stand-in device memory at the
  addresses bound, in binding order. FP16 engines round outputs to half precision.
- pycuda.driver: contexts are current per thread (a thread-local stack: make_context pushes,
  Context.pop pops); every call that needs a context raises pycuda's LogicError
  "explicit_context_dependent failed: invalid device context - no currently active
  context?" without one. Device memory is numpy bytes at fake addresses; async copies and
  engine runs are queued on their stream and happen at synchronize(), as on a GPU; a copy
  larger than its allocation raises "cuMemcpyHtoDAsync failed: invalid argument".
  Async copies from memory that is not page-locked are counted (they are silently
  synchronous on the real driver).

    standin = install(monkeypatch, "8.2")      # puts tensorrt, pycuda, pycuda.driver in
    standin.calls                               # sys.modules; records the API calls made
"""

import enum
import itertools
import json
import sys
import threading
import types

import numpy as np
import onnxruntime

MAGIC = b"STANDIN-TRT-PLAN\x00"
VERSIONS = {"8.2": "8.2.1.8", "10": "10.3.0.26"}
NO_CONTEXT = (
    "explicit_context_dependent failed: invalid device context - no currently active context?"
)


class StandIn:
    """Both modules of one stand-in and what happened to them."""

    def __init__(self, generation, gpu_name="Stand-in GPU", fast_fp16=True):
        self.generation = generation
        self.version = VERSIONS[generation]
        self.gpu_name = gpu_name
        self.fast_fp16 = fast_fp16
        self.calls = []  # API calls of interest, by name
        self.builds = 0
        self.cuda = _make_cuda(self)
        self.trt = _make_trt(self)
        self.pycuda = types.ModuleType("pycuda")
        self.pycuda.driver = self.cuda

    def record(self, name):
        self.calls.append(name)


def install(monkeypatch, generation, **options):
    """Put a stand-in `tensorrt` and `pycuda.driver` in sys.modules for one test."""
    standin = StandIn(generation, **options)
    monkeypatch.setitem(sys.modules, "tensorrt", standin.trt)
    monkeypatch.setitem(sys.modules, "pycuda", standin.pycuda)
    monkeypatch.setitem(sys.modules, "pycuda.driver", standin.cuda)
    return standin


# ------------------------------------------------------------------ pycuda.driver


def _make_cuda(standin):
    cuda = types.ModuleType("pycuda.driver")
    state = types.SimpleNamespace(initialised=False, local=threading.local(), allocations={})
    addresses = itertools.count(0x7F0000000000, 0x100000)
    cuda._state = state

    class Error(Exception):
        pass

    class LogicError(Error):
        pass

    def stack():
        if not hasattr(state.local, "stack"):
            state.local.stack = []
        return state.local.stack

    def current():
        s = stack()
        if not s:
            raise LogicError(NO_CONTEXT)
        return s[-1]

    def init(flags=0):
        state.initialised = True

    class Device:
        __slots__ = ("ordinal",)

        def __init__(self, ordinal):
            if not state.initialised:
                raise LogicError("cuDeviceGet failed: initialization error")
            if ordinal != 0:
                raise LogicError("cuDeviceGet failed: invalid device ordinal")
            self.ordinal = ordinal

        @staticmethod
        def count():
            if not state.initialised:
                raise LogicError("cuDeviceGetCount failed: initialization error")
            return 1

        def name(self):
            return standin.gpu_name

        def make_context(self, flags=0):
            ctx = Context(self)
            stack().append(ctx)
            standin.record("make_context")
            return ctx

    class Context:
        __slots__ = ("alive", "device")

        def __init__(self, device):
            self.device = device
            self.alive = True

        def push(self):
            if not self.alive:
                raise LogicError("cuCtxPushCurrent failed: invalid device context")
            stack().append(self)
            standin.record("push")

        @staticmethod
        def pop():
            s = stack()
            if not s:
                raise LogicError("cuCtxPopCurrent failed: invalid device context")
            s.pop()
            standin.record("pop")

        @staticmethod
        def get_current():
            s = stack()
            return s[-1] if s else None

        def detach(self):
            self.alive = False
            s = stack()
            if self in s:
                s.remove(self)
            standin.record("detach")

    class DeviceAllocation:
        __slots__ = ("address", "buffer", "context")

        def __init__(self, nbytes):
            self.context = current()
            self.address = next(addresses)
            self.buffer = np.zeros(int(nbytes), np.uint8)
            state.allocations[self.address] = self

        def __int__(self):
            return self.address

        __index__ = __int__

        def free(self):
            current()
            state.allocations.pop(self.address, None)

    def mem_alloc(nbytes):
        standin.record("mem_alloc")
        return DeviceAllocation(nbytes)

    def find(address, nbytes, call):
        """The device bytes [address, address + nbytes) of a live allocation."""
        address = int(address)
        for alloc in state.allocations.values():
            if alloc.address <= address < alloc.address + max(len(alloc.buffer), 1):
                if alloc.context is not current():
                    raise LogicError("%s failed: invalid argument (another context)" % call)
                offset = address - alloc.address
                if offset + nbytes > len(alloc.buffer):
                    raise LogicError("%s failed: invalid argument" % call)
                return alloc.buffer[offset : offset + nbytes]
        raise LogicError("%s failed: invalid argument (no such allocation)" % call)

    pinned = []

    def pagelocked_empty(shape, dtype, order="C", mem_flags=0):
        current()  # cuMemHostAlloc needs a context
        array = np.empty(shape, dtype, order)
        pinned.append(array)
        standin.record("pagelocked_empty")
        return array

    def is_pinned(array):
        low, high = _byte_bounds(array)
        for p in pinned:
            p_low, p_high = _byte_bounds(p)
            if p_low <= low and high <= p_high:
                return True
        return False

    cuda.pageable_async_copies = 0
    streams = {}
    handles = itertools.count(0x5000)

    class Stream:
        __slots__ = ("context", "handle", "queue")

        def __init__(self, flags=0):
            self.context = current()
            self.handle = next(handles)
            self.queue = []
            streams[self.handle] = self

        def synchronize(self):
            if current() is not self.context:
                raise LogicError("cuStreamSynchronize failed: invalid argument (another context)")
            queue, self.queue = self.queue, []
            for op in queue:
                op()

    def stream_of(stream):
        if stream is None:
            raise LogicError("the stand-in needs an explicit stream (nanobot uses one)")
        return stream

    def memcpy_htod_async(dest, src, stream=None):
        src = np.asarray(src)
        target = find(dest, src.nbytes, "cuMemcpyHtoDAsync")
        if not is_pinned(src):
            cuda.pageable_async_copies += 1
        standin.record("memcpy_htod_async")
        # The GPU reads the host memory when the copy runs, not when it is queued.
        stream_of(stream).queue.append(lambda: target.__setitem__(slice(None), _bytes(src)))

    def memcpy_dtoh_async(dest, src, stream=None):
        if not dest.flags.c_contiguous or not dest.flags.writeable:
            raise LogicError("cuMemcpyDtoHAsync failed: invalid argument (not writable)")
        source = find(src, dest.nbytes, "cuMemcpyDtoHAsync")
        if not is_pinned(dest):
            cuda.pageable_async_copies += 1
        standin.record("memcpy_dtoh_async")
        stream_of(stream).queue.append(lambda: _bytes(dest).__setitem__(slice(None), source))

    cuda.Error, cuda.LogicError = Error, LogicError
    cuda.init, cuda.Device, cuda.Context = init, Device, Context
    cuda.mem_alloc, cuda.pagelocked_empty, cuda.Stream = mem_alloc, pagelocked_empty, Stream
    cuda.memcpy_htod_async, cuda.memcpy_dtoh_async = memcpy_htod_async, memcpy_dtoh_async
    cuda._find, cuda._streams, cuda._current = find, streams, current
    cuda.live_allocations = lambda: len(state.allocations)
    cuda.context_depth = lambda: len(stack())
    return cuda


def _byte_bounds(array):
    """np.byte_bounds (moved to np.lib.array_utils in NumPy 2)."""
    utils = getattr(np.lib, "array_utils", np)
    return utils.byte_bounds(array)


def _bytes(array):
    return array.reshape(-1).view(np.uint8)


# ------------------------------------------------------------------ tensorrt


class DataType(enum.IntEnum):
    FLOAT = 0
    HALF = 1
    INT8 = 2
    INT32 = 3
    BOOL = 4


_NP = {
    DataType.FLOAT: np.float32,
    DataType.HALF: np.float16,
    DataType.INT8: np.int8,
    DataType.INT32: np.int32,
    DataType.BOOL: np.bool_,
}
_ORT_TYPES = {"tensor(float)": DataType.FLOAT, "tensor(float16)": DataType.HALF}


class Severity(enum.IntEnum):
    INTERNAL_ERROR = 0
    ERROR = 1
    WARNING = 2
    INFO = 3
    VERBOSE = 4


class NetworkDefinitionCreationFlag(enum.IntEnum):
    EXPLICIT_BATCH = 0


class BuilderFlag(enum.IntEnum):
    FP16 = 0
    INT8 = 1


class MemoryPoolType(enum.IntEnum):
    WORKSPACE = 0


class TensorIOMode(enum.IntEnum):
    NONE = 0
    INPUT = 1
    OUTPUT = 2


def _make_trt(standin):
    trt = types.ModuleType("tensorrt")
    trt.__version__ = standin.version
    new_api = standin.generation == "10"
    cuda = standin.cuda

    def need_context():
        cuda._current()

    class ILogger:
        Severity = Severity
        INTERNAL_ERROR, ERROR, WARNING, INFO, VERBOSE = list(Severity)

        def __init__(self):
            pass

        def log(self, severity, msg):
            raise NotImplementedError

    class Logger(ILogger):
        def __init__(self, min_severity=Severity.WARNING):
            ILogger.__init__(self)
            self.min_severity = min_severity

        def log(self, severity, msg):
            if severity <= self.min_severity:
                sys.stderr.write("[TRT] %s\n" % msg)

    class ITensor:
        __slots__ = ("dtype", "name", "shape")

        def __init__(self, name, shape, dtype):
            self.name, self.shape, self.dtype = name, tuple(shape), dtype

    class INetworkDefinition:
        __slots__ = ("flags", "inputs", "model", "outputs")

        def __init__(self, flags):
            self.flags = flags
            self.inputs, self.outputs = [], []
            self.model = None  # the ONNX bytes parsed into it

        @property
        def num_inputs(self):
            return len(self.inputs)

        @property
        def num_outputs(self):
            return len(self.outputs)

        def get_input(self, i):
            return self.inputs[i]

        def get_output(self, i):
            return self.outputs[i]

    class ParserError:
        __slots__ = ("text",)

        def __init__(self, text):
            self.text = text

        def desc(self):
            return self.text

        def __str__(self):
            return self.text

    class OnnxParser:
        __slots__ = ("errors", "logger", "model", "network")

        def __init__(self, network, logger):
            self.network, self.logger, self.errors = network, logger, []

        @property
        def num_errors(self):
            return len(self.errors)

        def get_error(self, i):
            return self.errors[i]

        def parse(self, model, path=None):
            explicit = 1 << int(NetworkDefinitionCreationFlag.EXPLICIT_BATCH)
            if not new_api and not self.network.flags & explicit:
                self.errors.append(
                    ParserError(
                        "ModelImporter.cpp:720: The ONNX parser only supports networks with an "
                        "explicit batch dimension"
                    )
                )
                return False
            try:
                session = onnxruntime.InferenceSession(
                    bytes(model), providers=["CPUExecutionProvider"]
                )
            except Exception as e:
                self.errors.append(ParserError("ModelImporter.cpp: %s" % e))
                return False
            for arg in session.get_inputs():
                self.network.inputs.append(
                    ITensor(arg.name, _dims(arg.shape), _ORT_TYPES[arg.type])
                )
            for arg in session.get_outputs():
                self.network.outputs.append(
                    ITensor(arg.name, _dims(arg.shape), _ORT_TYPES[arg.type])
                )
            self.network.model = bytes(model)
            return True

    class IOptimizationProfile:
        __slots__ = ("shapes",)

        def __init__(self):
            self.shapes = {}

        def set_shape(self, name, min, opt, max):
            self.shapes[name] = [tuple(min), tuple(opt), tuple(max)]

    config_slots = ("flags", "profiles", "pool_limits")
    config_slots += ("progress_monitor",) if new_api else ("max_workspace_size",)

    class IBuilderConfig:
        __slots__ = config_slots

        def __init__(self):
            self.flags = set()
            self.profiles = []
            self.pool_limits = {}
            if new_api:
                self.progress_monitor = None
            else:
                self.max_workspace_size = 0

        def set_flag(self, flag):
            self.flags.add(flag)

        def add_optimization_profile(self, profile):
            self.profiles.append(profile)
            return len(self.profiles) - 1

    if new_api:

        def set_memory_pool_limit(self, pool, size):
            self.pool_limits[pool] = size

        IBuilderConfig.set_memory_pool_limit = set_memory_pool_limit

    class IHostMemory(bytes):
        @property
        def nbytes(self):
            return len(self)

    class Builder:
        __slots__ = ("logger",)

        def __init__(self, logger):
            self.logger = logger

        @property
        def platform_has_fast_fp16(self):
            return standin.fast_fp16

        def create_network(self, flags=0):
            standin.record("create_network(%d)" % flags)
            return INetworkDefinition(flags)

        def create_builder_config(self):
            return IBuilderConfig()

        def create_optimization_profile(self):
            return IOptimizationProfile()

        def build_serialized_network(self, network, config):
            need_context()
            standin.builds += 1
            standin.record("build_serialized_network")
            profile = config.profiles[0].shapes if config.profiles else {}
            for t in network.inputs:
                if -1 in t.shape and t.name not in profile:
                    self.logger.log(
                        Severity.ERROR,
                        "4: [network.cpp::validate::2965] Error Code 4: "
                        "Internal Error (Network has dynamic or shape inputs, but no "
                        "optimization profile has been defined.)",
                    )
                    return None
            monitor = getattr(config, "progress_monitor", None)
            if monitor is not None:
                monitor.phase_start("Building engine", None, 2)
                for step in range(2):
                    monitor.step_complete("Building engine", step)
                monitor.phase_finish("Building engine")
            header = {
                "version": standin.version,
                "gpu": standin.gpu_name,
                "fp16": BuilderFlag.FP16 in config.flags,
                "profile": {k: [list(s) for s in v] for k, v in profile.items()},
                "workspace": config.pool_limits.get(MemoryPoolType.WORKSPACE)
                if new_api
                else config.max_workspace_size,
            }
            return IHostMemory(MAGIC + json.dumps(header).encode() + b"\n" + network.model)

    class Runtime:
        __slots__ = ("logger",)

        def __init__(self, logger):
            self.logger = logger

        def deserialize_cuda_engine(self, data):
            need_context()
            data = bytes(data)
            if not data.startswith(MAGIC):
                self.logger.log(
                    Severity.ERROR,
                    "1: [stdArchiveReader.cpp::StdArchiveReader::32] "
                    "Error Code 1: Serialization (Serialization assertion "
                    "magicTagRead == kMAGIC_TAG failed.Magic Tag does not match)",
                )
                return None
            head, _, model = data[len(MAGIC) :].partition(b"\n")
            header = json.loads(head.decode())
            if header["version"] != standin.version:
                self.logger.log(
                    Severity.ERROR,
                    "1: [stdArchiveReader.cpp::StdArchiveReader::40] "
                    "Error Code 1: Serialization (Serialization assertion "
                    "stdVersionRead == serializationVersion failed.Version tag does "
                    "not match. Note: Current Version: %s, Serialized Engine "
                    "Version: %s)" % (standin.version, header["version"]),
                )
                return None
            if header["gpu"] != standin.gpu_name:
                self.logger.log(
                    Severity.ERROR,
                    "6: The engine plan file is generated on an "
                    "incompatible device, expecting compute X got compute Y, "
                    "please rebuild.",
                )
                return None
            engine_class = EngineV10 if new_api else EngineV8
            return engine_class(header, model)

    class Engine:
        """What both generations share: the model, its IO tensors, execution."""

        __slots__ = ("fp16", "header", "io", "session")

        def __init__(self, header, model):
            self.header = header
            self.fp16 = header["fp16"]
            self.session = onnxruntime.InferenceSession(model, providers=["CPUExecutionProvider"])
            self.io = [
                (a.name, True, _dims(a.shape), _ORT_TYPES[a.type])
                for a in self.session.get_inputs()
            ]
            self.io += [
                (a.name, False, _dims(a.shape), _ORT_TYPES[a.type])
                for a in self.session.get_outputs()
            ]

        def profile(self, name):
            return [tuple(s) for s in self.header["profile"][name]]

        def run(self, feeds):
            outs = self.session.run(None, feeds)
            names = [a.name for a in self.session.get_outputs()]
            if self.fp16:
                outs = [o.astype(np.float16).astype(o.dtype) for o in outs]
            return dict(zip(names, outs))

    class EngineV8(Engine):
        __slots__ = ()

        @property
        def num_bindings(self):
            return len(self.io)

        def get_binding_name(self, i):
            return self.io[i][0]

        def get_binding_index(self, name):
            return [t[0] for t in self.io].index(name)

        def binding_is_input(self, i):
            return self.io[i][1]

        def get_binding_shape(self, i):
            return self.io[i][2]

        def get_binding_dtype(self, i):
            return self.io[i][3]

        def get_profile_shape(self, profile_index, binding):
            return self.profile(self.io[binding][0])

        def create_execution_context(self):
            need_context()
            return ContextV8(self)

    class EngineV10(Engine):
        __slots__ = ()

        @property
        def num_io_tensors(self):
            return len(self.io)

        def _find(self, name):
            for t in self.io:
                if t[0] == name:
                    return t
            raise KeyError(name)

        def get_tensor_name(self, i):
            return self.io[i][0]

        def get_tensor_mode(self, name):
            return TensorIOMode.INPUT if self._find(name)[1] else TensorIOMode.OUTPUT

        def get_tensor_shape(self, name):
            return self._find(name)[2]

        def get_tensor_dtype(self, name):
            return self._find(name)[3]

        def get_tensor_profile_shape(self, name, profile_index):
            return self.profile(name)

        def create_execution_context(self):
            need_context()
            return ContextV10(self)

    class ExecutionContext:
        """Input shapes as set, output shapes inferred, execution on a stream."""

        __slots__ = ("engine", "shapes")

        def __init__(self, engine):
            self.engine = engine
            self.shapes = {t[0]: t[2] for t in engine.io if t[1]}

        def _set_shape(self, name, shape):
            shape = tuple(int(d) for d in shape)
            declared = next(t for t in self.engine.io if t[0] == name)[2]
            if len(shape) != len(declared) or any(
                d != -1 and d != s for d, s in zip(declared, shape)
            ):
                return False
            if -1 in declared:
                low, _, high = self.engine.profile(name)
                if any(s < lo or s > hi for s, lo, hi in zip(shape, low, high)):
                    standin.trt_errors.append("shape %s outside profile" % (shape,))
                    return False
            self.shapes[name] = shape
            return True

        def _shape(self, name):
            if name in self.shapes:
                return self.shapes[name]
            if any(-1 in s for s in self.shapes.values()):
                return tuple(-1 for _ in next(t for t in self.engine.io if t[0] == name)[2])
            feeds = {n: np.zeros(s, np.float32) for n, s in self.shapes.items()}
            return tuple(self.engine.run(feeds)[name].shape)

        def _enqueue(self, addresses, stream_handle):
            """Queue the run on the stream: read inputs from device memory, write outputs."""
            need_context()
            stream = cuda._streams.get(stream_handle)
            if stream is None:
                raise cuda.LogicError("invalid stream handle %r" % stream_handle)
            for name, shape in self.shapes.items():
                if -1 in shape:
                    standin.trt_errors.append("input %s has no shape set" % name)
                    return False
            io = [(t[0], t[1], _NP[t[3]]) for t in self.engine.io]
            out_shapes = {n: self._shape(n) for n, is_in, _ in io if not is_in}

            def run():
                feeds = {}
                for name, is_input, dtype in io:
                    if is_input:
                        shape = self.shapes[name]
                        n = int(np.prod(shape)) * np.dtype(dtype).itemsize
                        feeds[name] = (
                            cuda._find(addresses[name], n, "enqueue")
                            .view(dtype)
                            .reshape(shape)
                            .copy()
                        )
                for name, value in self.engine.run(feeds).items():
                    value = np.ascontiguousarray(value, dtype=dict((n, d) for n, _, d in io)[name])
                    assert value.shape == out_shapes[name]
                    try:
                        target = cuda._find(addresses[name], value.nbytes, "enqueue")
                    except cuda.LogicError:
                        raise cuda.LogicError(
                            "cuStreamSynchronize failed: an illegal memory access was encountered"
                        ) from None
                    target[:] = value.reshape(-1).view(np.uint8)

            stream.queue.append(run)
            return True

    class ContextV8(ExecutionContext):
        __slots__ = ()

        def set_binding_shape(self, index, shape):
            standin.record("set_binding_shape")
            return self._set_shape(self.engine.io[index][0], shape)

        def get_binding_shape(self, index):
            return self._shape(self.engine.io[index][0])

        @property
        def all_binding_shapes_specified(self):
            return all(-1 not in s for s in self.shapes.values())

        def execute_async_v2(self, bindings, stream_handle):
            standin.record("execute_async_v2")
            if len(bindings) != len(self.engine.io):
                return False
            addresses = {t[0]: int(b) for t, b in zip(self.engine.io, bindings)}
            return self._enqueue(addresses, stream_handle)

    class ContextV10(ExecutionContext):
        __slots__ = ("addresses",)

        def __init__(self, engine):
            ExecutionContext.__init__(self, engine)
            self.addresses = {}

        def set_input_shape(self, name, shape):
            standin.record("set_input_shape")
            return self._set_shape(name, shape)

        def get_tensor_shape(self, name):
            return self._shape(name)

        def set_tensor_address(self, name, memory):
            standin.record("set_tensor_address")
            if name not in [t[0] for t in self.engine.io]:
                return False
            self.addresses[name] = int(memory)
            return True

        def execute_async_v3(self, stream_handle):
            standin.record("execute_async_v3")
            missing = [t[0] for t in self.engine.io if t[0] not in self.addresses]
            if missing:
                standin.trt_errors.append("no address for %s" % missing)
                return False
            return self._enqueue(self.addresses, stream_handle)

    standin.trt_errors = []
    trt.ILogger, trt.Logger = ILogger, Logger
    trt.DataType, trt.float32, trt.float16 = DataType, DataType.FLOAT, DataType.HALF
    trt.NetworkDefinitionCreationFlag, trt.BuilderFlag = NetworkDefinitionCreationFlag, BuilderFlag
    trt.Builder, trt.Runtime, trt.OnnxParser = Builder, Runtime, OnnxParser
    trt.nptype = lambda t: _NP[DataType(t)]
    trt.volume = lambda shape: int(np.prod(shape))
    if new_api:
        trt.TensorIOMode, trt.MemoryPoolType = TensorIOMode, MemoryPoolType

        class IProgressMonitor:
            def __init__(self):
                pass

        trt.IProgressMonitor = IProgressMonitor
    return trt


def _dims(shape):
    return tuple(d if isinstance(d, int) and d > 0 else -1 for d in shape)
