"""ONNX Runtime backend: the CUDA provider where installed, else the CPU."""

from ..onnxinfo import TensorInfo
from .base import Backend, BackendError, log

PREFERRED_PROVIDERS = ("CUDAExecutionProvider", "CPUExecutionProvider")
ORT_TYPES = {
    "tensor(float)": "float32",
    "tensor(float16)": "float16",
    "tensor(uint8)": "uint8",
    "tensor(int64)": "int64",
    "tensor(int32)": "int32",
}


def available():
    """(True, version) where onnxruntime imports, else (False, why not)."""
    try:
        import onnxruntime
    except ImportError:
        return False, "onnxruntime is not installed (pip install 'nanobot[onnx]')"
    return True, onnxruntime.__version__


class OnnxRuntimeBackend(Backend):
    """Runs an ONNX file with ONNX Runtime; `providers` overrides the choice of providers."""

    name = "onnxruntime"

    def __init__(self, model_path, providers=None, threads=None):
        try:
            import onnxruntime as ort
        except ImportError:
            raise BackendError(available()[1]) from None
        have = ort.get_available_providers()
        providers = list(providers or [p for p in PREFERRED_PROVIDERS if p in have])
        options = ort.SessionOptions()
        options.log_severity_level = 3  # errors only: providers missing are reported by us
        if threads:
            options.intra_op_num_threads = int(threads)
        try:
            self.session = ort.InferenceSession(model_path, options, providers=providers)
        except Exception as e:  # onnxruntime raises its own exception types
            raise BackendError("ONNX Runtime cannot load %s: %s" % (model_path, e)) from None
        self.version = ort.__version__
        self.providers = self.session.get_providers()
        log.debug("onnxruntime providers for %s: %s", model_path, self.providers)
        super().__init__(
            model_path,
            [_info(t) for t in self.session.get_inputs()],
            [_info(t) for t in self.session.get_outputs()],
        )
        self._output_names = [t.name for t in self.outputs]

    def describe(self):
        return "onnxruntime %s (%s)" % (self.version, ", ".join(self.providers))

    def _run(self, feeds):
        values = self.session.run(self._output_names, feeds)
        return dict(zip(self._output_names, values))


def _info(arg):
    shape = tuple(d if isinstance(d, int) and d > 0 else None for d in arg.shape)
    return TensorInfo(arg.name, shape, ORT_TYPES.get(arg.type, arg.type))
