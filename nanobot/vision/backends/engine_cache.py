"""Where built TensorRT engines are kept, and under which name.

An engine only loads on the TensorRT version and the GPU that built it, and it holds one
precision of one model. So its file name carries all four, as jetson-inference does
(``model.onnx.1.1.8201.GPU.FP16.engine``)::

    yolov8n.onnx.3f2a9c01d4b7.trt8.2.1.8.NVIDIA-Tegra-X1.fp16.engine
    (model)      (content hash) (TensorRT)  (GPU)          (precision)

The hash is of the model's bytes, so an ONNX file replaced under the same name gets a new
engine. Engines go next to the model when that folder is writable, else to `cache_dir`
(default: $NANOBOT_ENGINE_CACHE or ~/.cache/nanobot/engines).
"""

import hashlib
import os
import re
import tempfile

__all__ = ["default_cache_dir", "engine_path", "model_hash", "write_atomic"]

HASH_CHARS = 12


def model_hash(path):
    """The first hex digits of the SHA-256 of the file at `path`."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()[:HASH_CHARS]


def default_cache_dir():
    return os.environ.get("NANOBOT_ENGINE_CACHE") or os.path.join(
        os.path.expanduser("~"), ".cache", "nanobot", "engines"
    )


def engine_path(model_path, trt_version, gpu_name, precision, cache_dir=None):
    """The engine file for this model, TensorRT version, GPU and precision.

    With `cache_dir` the engine goes there; otherwise next to the model where that folder
    is writable, else in the default cache folder.
    """
    name = "%s.%s.trt%s.%s.%s.engine" % (
        os.path.basename(model_path),
        model_hash(model_path),
        trt_version,
        _slug(gpu_name),
        precision,
    )
    folder = cache_dir
    if folder is None:
        folder = os.path.dirname(os.path.abspath(model_path))
        if not os.access(folder, os.W_OK):
            folder = default_cache_dir()
    return os.path.join(folder, name)


def write_atomic(path, data):
    """Write `data` to `path` so a reader never sees half a file (temp file + rename)."""
    folder = os.path.dirname(path) or "."
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".engine-", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def _slug(text):
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text.strip()) or "gpu"
