"""TensorRT backend (pycuda): engines built from ONNX and cached, or loaded ready-made.

    backend = TensorRTBackend("yolov8n.onnx", precision="fp16")   # builds once, then cached
    backend = TensorRTBackend("yolov8n.engine")                   # a ready engine/plan file

Runs with either TensorRT API generation (see trt_io) and from any thread: the backend owns
its CUDA context and makes it current around every call (see cuda_memory). One stream;
page-locked host buffers sized for the largest shape and reused; async copies.
"""

import os

import numpy as np

from . import engine_cache, trt_build, trt_io
from .base import Backend, BackendError, TensorInfo, log
from .cuda_memory import CudaContext, PinnedBuffer

ENGINE_SUFFIXES = (".engine", ".plan", ".trt")


def import_modules():
    """(tensorrt, pycuda.driver), or BackendError saying what is missing."""
    try:
        import tensorrt
    except ImportError:
        raise BackendError(
            "TensorRT is not installed: on a Jetson it comes with JetPack (make the venv with "
            "--system-site-packages); elsewhere use backend='onnxruntime' or 'opencv'"
        ) from None
    try:
        import pycuda.driver
    except ImportError:
        raise BackendError(
            "pycuda is not installed: pip install pycuda (on a Jetson: "
            "pip install 'nanobot[jetson]')"
        ) from None
    return tensorrt, pycuda.driver


def available():
    """(True, "TensorRT x on GPU") where TensorRT imports and a CUDA device exists."""
    try:
        trt, cuda = import_modules()
        cuda.init()
        if cuda.Device.count() < 1:
            return False, "no CUDA device found"
        return True, "TensorRT %s on %s" % (trt.__version__, cuda.Device(0).name())
    except BackendError as e:
        return False, str(e)
    except Exception as e:  # pycuda's driver errors: no driver, no device, ...
        return False, "CUDA is not usable (%s)" % e


class TensorRTBackend(Backend):
    """A TensorRT engine on GPU `device`.

    From an ONNX file the engine is built (FP16 where the GPU has it) and cached under a
    name keyed by model hash, TensorRT version, GPU and precision (engine_cache); a cached
    engine that does not load (built by another TensorRT or GPU) is rebuilt. `input_shape`
    gives the size of dynamic inputs: {name: shape} or one shape for every input, with
    the batch dimension as large as `max_batch`.
    """

    name = "tensorrt"

    def __init__(
        self,
        model_path,
        precision="fp16",
        cache_dir=None,
        input_shape=None,
        max_batch=1,
        device=0,
        workspace=None,
    ):
        trt, cuda = import_modules()
        self.trt, self.cuda = trt, cuda
        self.precision = precision
        self.built = False  # True when this load built the engine
        self._buffers = {}
        self._engine = self._context = None
        self.gpu = CudaContext(cuda, device)
        try:
            with self.gpu:
                self._logger = trt_build.make_logger(trt)
                self._runtime = trt.Runtime(self._logger)
                self._engine = self._load(model_path, cache_dir, input_shape, max_batch, workspace)
                self._context = self._engine.create_execution_context()
                self.io = trt_io.for_engine(trt, self._engine, self._context)
                self._stream = cuda.Stream()
                self._allocate()
        except BaseException:
            self._release()
            raise
        super().__init__(
            model_path,
            [_info(t) for t in self.io.tensors if t.is_input],
            [_info(t) for t in self.io.tensors if not t.is_input],
        )
        log.info("TensorRT engine %s ready (%s API)", self.engine_path, self.io.api)

    def describe(self):
        return "tensorrt %s (%s, %s, %s)" % (
            self.trt.__version__,
            self.gpu.gpu_name,
            self.precision,
            self.io.api,
        )

    # ---- loading

    def _load(self, model_path, cache_dir, input_shape, max_batch, workspace):
        if model_path.endswith(ENGINE_SUFFIXES):
            self.engine_path = model_path
            engine = self._deserialize(model_path)
            if engine is None:
                raise BackendError(
                    "%s does not load with TensorRT %s on %s: it was built by another "
                    "TensorRT version or for another GPU ('magic tag' mismatch); build it "
                    "again from its ONNX file: nanobot detect build MODEL.onnx"
                    % (model_path, self.trt.__version__, self.gpu.gpu_name)
                )
            return engine
        path = self.engine_path = engine_cache.engine_path(
            model_path, self.trt.__version__, self.gpu.gpu_name, self.precision, cache_dir
        )
        if os.path.exists(path):
            engine = self._deserialize(path)
            if engine is not None:
                log.info("loaded cached TensorRT engine %s", path)
                return engine
            log.warning(
                "cached engine %s does not load with TensorRT %s on %s (built by another "
                "version or GPU: 'magic tag' mismatch); rebuilding it",
                path,
                self.trt.__version__,
                self.gpu.gpu_name,
            )
        shapes = _profile_shapes(model_path, input_shape, max_batch)
        plan = trt_build.build_engine(
            self.trt, self._logger, model_path, self.precision, shapes, workspace
        )
        try:
            engine_cache.write_atomic(path, plan)
        except OSError as e:
            log.warning("cannot cache the engine at %s (%s): it will be rebuilt next time", path, e)
        self.built = True
        engine = self._runtime.deserialize_cuda_engine(plan)
        if engine is None:
            raise BackendError("TensorRT cannot load the engine it just built for %s" % model_path)
        return engine

    def _deserialize(self, path):
        with open(path, "rb") as f:
            return self._runtime.deserialize_cuda_engine(f.read())

    def _allocate(self):
        """Buffers for the largest shapes; outputs sized from the context at those shapes."""
        self._shapes = {}
        for t in self.io.tensors:
            if t.is_input:
                if -1 in t.shape:
                    self.io.set_input_shape(t.name, t.max_shape)
                self._shapes[t.name] = t.max_shape
        for t in self.io.tensors:
            shape = t.max_shape if t.is_input else self.io.shape(t.name)
            self._buffers[t.name] = PinnedBuffer(self.cuda, t.name, np.prod(shape), t.dtype)
        self.io.bind({name: buf.address for name, buf in self._buffers.items()})

    # ---- running

    def _run(self, feeds):
        with self.gpu:
            stream = self._stream
            for t in self.io.tensors:
                if not t.is_input:
                    continue
                x = feeds[t.name]
                if x.shape != self._shapes[t.name]:
                    self.io.set_input_shape(t.name, x.shape)
                    self._shapes[t.name] = x.shape
                buf = self._buffers[t.name]
                view = buf.view(x.shape)
                np.copyto(view, x, casting="same_kind")
                buf.to_device(view, stream)
            if not self.io.execute(stream):
                raise BackendError("TensorRT failed to run %s" % self.engine_path)
            results = []
            for t in self.io.tensors:
                if not t.is_input:
                    buf = self._buffers[t.name]
                    view = buf.view(self.io.shape(t.name))
                    buf.to_host(view, stream)
                    results.append((t.name, view))
            stream.synchronize()
            # The host buffers are reused by the next call: hand out copies.
            return {name: view.astype(np.float32) for name, view in results}

    # ---- teardown

    def close(self):
        if self.gpu is not None:
            self._release()

    def _release(self):
        gpu, self.gpu = self.gpu, None
        with gpu:
            for buf in self._buffers.values():
                buf.free()
            self._buffers = {}
            self._context = self._engine = self._runtime = None
            self._stream = None
        gpu.release()


def _info(tensor):
    shape = tuple(None if d < 0 else d for d in tensor.shape)
    return TensorInfo(tensor.name, shape, tensor.dtype.name)


def _profile_shapes(onnx_path, input_shape, max_batch):
    """(min, opt, max) shapes for each dynamic input of the ONNX model."""
    from .. import onnxinfo

    shapes = {}
    for t in onnxinfo.read(onnx_path).inputs:
        if not t.is_dynamic:
            continue
        given = input_shape.get(t.name) if isinstance(input_shape, dict) else input_shape
        dims = list(t.shape)
        if given is not None:
            dims = [d if d is not None else int(g) for d, g in zip(dims, given)]
        if dims[0] is None:
            dims[0] = 1
        if None in dims:
            continue  # trt_build names the input that still needs a size
        low = tuple([1, *dims[1:]]) if t.shape[0] is None else tuple(dims)
        high = tuple([max_batch, *dims[1:]]) if t.shape[0] is None else tuple(dims)
        shapes[t.name] = (low, low, high)
    return shapes
