"""Inference backends behind one interface, all running the same ONNX file.

    backend = load("yolov8n.onnx")              # auto: TensorRT, ONNX Runtime or OpenCV
    backend.inputs                                    # [TensorInfo(name, shape, dtype)]
    outputs = backend.infer({"images": tensor})       # {output name: array}

`auto` picks TensorRT where `tensorrt` imports and a CUDA device exists, else ONNX Runtime,
else OpenCV DNN, and logs the choice and why the better ones were passed over.
"""

from . import opencv, ort
from . import tensorrt as _tensorrt
from .base import Backend, BackendError, TensorInfo, log

__all__ = ["BACKENDS", "Backend", "BackendError", "TensorInfo", "availability", "load"]

BACKENDS = ("tensorrt", "onnxruntime", "opencv")
_AVAILABLE = {
    "tensorrt": _tensorrt.available,
    "onnxruntime": ort.available,
    "opencv": opencv.available,
}


def availability():
    """{backend name: (usable, version or why not)} for this machine, best first."""
    return {name: _AVAILABLE[name]() for name in BACKENDS}


def load(
    model_path,
    backend="auto",
    precision="fp16",
    cache_dir=None,
    input_shape=None,
    threads=None,
    **options,
):
    """The model at `model_path` (.onnx; .engine/.plan for TensorRT) on `backend`.

    `precision`, `cache_dir` and `input_shape` (the size of dynamic inputs, which an engine
    is built for) concern TensorRT only: the other backends take any shape at run time.
    `threads` caps the CPU threads one inference uses on the CPU backends (OpenCV's count is
    process-wide); None leaves the backend's default, and TensorRT (the GPU) ignores it.
    `options` go to the backend's class (e.g. idle_spin for ONNX Runtime).
    """
    if backend == "auto":
        backend = _choose(model_path)
    if threads and backend in ("onnxruntime", "opencv"):
        options["threads"] = threads
    if backend == "tensorrt":
        return _tensorrt.TensorRTBackend(
            model_path, precision=precision, cache_dir=cache_dir, input_shape=input_shape, **options
        )
    if model_path.endswith(_tensorrt.ENGINE_SUFFIXES):
        raise BackendError(
            "%s is a TensorRT engine: only backend 'tensorrt' runs it; give the ONNX file "
            "to run on %s" % (model_path, backend)
        )
    if backend == "onnxruntime":
        return ort.OnnxRuntimeBackend(model_path, **options)
    if backend == "opencv":
        return opencv.OpenCVBackend(model_path, **options)
    raise BackendError("unknown backend %r; choose auto, %s" % (backend, ", ".join(BACKENDS)))


def _choose(model_path):
    passed = []
    for name in BACKENDS:
        ok, detail = _AVAILABLE[name]()
        if ok:
            log.info(
                "backend %s (%s) for %s%s",
                name,
                detail,
                model_path,
                "; passed over: " + "; ".join(passed) if passed else "",
            )
            return name
        passed.append("%s: %s" % (name, detail))
        if model_path.endswith(_tensorrt.ENGINE_SUFFIXES):
            break
    raise BackendError("no backend can run %s: %s" % (model_path, "; ".join(passed)))
