"""The interface every inference backend offers."""

import logging

import numpy as np

from ..onnxinfo import TensorInfo

__all__ = ["Backend", "BackendError", "TensorInfo"]

log = logging.getLogger("nanobot.vision")


class BackendError(RuntimeError):
    """A backend cannot load a model or run it as asked."""


class Backend:
    """A loaded model: `inputs` and `outputs` (lists of TensorInfo, shapes with None for
    dynamic dimensions) and infer({input name: NCHW float32 array}) -> {output name: array}.

    A backend runs one inference at a time; close() (or a `with` block) frees what it holds.
    """

    name = None  # "tensorrt", "onnxruntime", "opencv"

    def __init__(self, model_path, inputs, outputs):
        self.model_path = model_path
        self.inputs = list(inputs)
        self.outputs = list(outputs)

    def infer(self, feeds):
        """Run the model on `feeds` (every input by name); returns outputs by name, in the
        model's output order. The arrays returned are the caller's to keep."""
        self._check(feeds)
        return self._run(feeds)

    def describe(self):
        """One line: backend, version and device."""
        return self.name

    def close(self):
        """Free what the backend holds; it cannot infer afterwards."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __repr__(self):
        return "<%s %s>" % (type(self).__name__, self.model_path)

    def _run(self, feeds):
        raise NotImplementedError

    def _check(self, feeds):
        names = [t.name for t in self.inputs]
        if set(feeds) != set(names):
            raise BackendError(
                "model %s takes inputs %s, not %s"
                % (self.model_path, ", ".join(names), ", ".join(sorted(feeds)) or "none")
            )
        for spec in self.inputs:
            x = feeds[spec.name]
            if not isinstance(x, np.ndarray) or x.dtype != np.float32:
                raise BackendError(
                    "input %r of model %s must be a float32 numpy array, not %s"
                    % (spec.name, self.model_path, getattr(x, "dtype", type(x).__name__))
                )
            fits = len(x.shape) == len(spec.shape) and all(
                want is None or want == got for want, got in zip(spec.shape, x.shape)
            )
            if not fits:
                raise BackendError(
                    "input %r of model %s has shape %s, not %s"
                    % (spec.name, self.model_path, _dims(spec.shape), list(x.shape))
                )


def _dims(shape):
    return "[%s]" % ", ".join("?" if d is None else str(d) for d in shape)
