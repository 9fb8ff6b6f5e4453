"""ONNX Runtime backend: the CUDA provider where installed, else the CPU."""

import re

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
    """Runs an ONNX file with ONNX Runtime; `providers` overrides the choice of providers.

    `threads` caps the CPU threads one inference uses (default: ONNX Runtime's, one per
    physical core). They spin while an inference runs (between its operators, where waking
    a sleeping thread costs more than the spin) and sleep between inferences, unless
    `idle_spin` is set: ONNX Runtime's default keeps them spinning for the next run, which
    takes the cores from everything else on a robot (the camera, the other nodes, a
    simulated world). See spin_settings().
    """

    name = "onnxruntime"

    def __init__(self, model_path, providers=None, threads=None, idle_spin=False):
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
        for key, value in spin_settings(ort.__version__, idle_spin).items():
            options.add_session_config_entry(key, value)
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


def spin_settings(version, idle_spin=False):
    """Session config entries that stop the intra-op threads spinning between inferences.

    ONNX Runtime 1.12 and later stop them when a run returns and spin again in the next
    (session.force_spinning_stop); earlier releases (1.10 is the last for Python 3.6) cannot,
    so there they never spin. With `idle_spin`, none: ONNX Runtime's default.
    """
    if idle_spin:
        return {}
    major_minor = tuple(int(part) for part in re.findall(r"\d+", version)[:2])
    if major_minor >= (1, 12):
        return {"session.force_spinning_stop": "1"}
    return {"session.intra_op.allow_spinning": "0"}


def _info(arg):
    shape = tuple(d if isinstance(d, int) and d > 0 else None for d in arg.shape)
    return TensorInfo(arg.name, shape, ORT_TYPES.get(arg.type, arg.type))
