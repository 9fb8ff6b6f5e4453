"""OpenCV DNN backend: runs ONNX on the CPU with nothing but OpenCV (every board has it)."""

from .. import _cv2, onnxinfo
from .base import Backend, BackendError


def available():
    """(True, version) where cv2 with its dnn module imports, else (False, why not)."""
    try:
        cv2 = _cv2.require("the OpenCV backend")
    except ImportError as e:
        return False, str(e)
    if not hasattr(cv2, "dnn"):
        return False, "this OpenCV build has no dnn module"
    return True, cv2.__version__


class OpenCVBackend(Backend):
    """Runs an ONNX file with cv2.dnn (tensor names and shapes read from the file itself).

    `threads` sets OpenCV's thread count, for the whole process (cv2.setNumThreads)."""

    name = "opencv"

    def __init__(self, model_path, threads=None):
        cv2 = _cv2.require("the OpenCV backend")
        if threads:
            cv2.setNumThreads(int(threads))
        info = onnxinfo.read(model_path)
        try:
            self.net = cv2.dnn.readNetFromONNX(model_path)
        except cv2.error as e:
            raise BackendError(
                "OpenCV %s cannot load %s: %s" % (cv2.__version__, model_path, _first_line(e))
            ) from None
        self.version = cv2.__version__
        super().__init__(model_path, info.inputs, info.outputs)
        names = [t.name for t in self.outputs]
        layers = list(self.net.getUnconnectedOutLayersNames())
        # OpenCV names output layers after the ONNX outputs; keep the model's order.
        self._layers = names if sorted(layers) == sorted(names) else layers

    def describe(self):
        return "opencv %s (dnn, CPU)" % self.version

    def _run(self, feeds):
        for name, x in feeds.items():
            self.net.setInput(x, name)
        values = self.net.forward(self._layers)
        return {t.name: v for t, v in zip(self.outputs, values)}


def _first_line(error):
    """The most specific line of an OpenCV error (its last non-empty one)."""
    lines = [line.lstrip("> ").strip() for line in str(error).splitlines()]
    lines = [line for line in lines if line]
    return lines[-1] if lines else "unknown error"
