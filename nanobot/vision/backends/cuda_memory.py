"""pycuda done right for inference on a thread that did not create the CUDA context.

`pycuda.autoinit` makes a context current on the importing thread only; a detector runs on
its node's thread, where every driver call would fail ("explicit_context_dependent failed").
So the backend owns an explicit context and makes it current around each call::

    gpu = CudaContext(cuda, device=0)       # created, then popped: current nowhere
    with gpu:                               # push ... pop on whichever thread runs this
        buf = PinnedBuffer(cuda, capacity, np.float32)

Host buffers are page-locked once and reused: inputs are copied *into* them (np.copyto),
never rebound, so the async copies always read the memory that was pinned.
"""

import numpy as np

from .base import BackendError

__all__ = ["CudaContext", "PinnedBuffer"]


class CudaContext:
    """A CUDA context of its own on `device`, current only inside `with` blocks."""

    def __init__(self, cuda, device=0):
        self.cuda = cuda
        cuda.init()
        count = cuda.Device.count()
        if device >= count:
            raise BackendError("CUDA device %d does not exist (%d found)" % (device, count))
        self.device = cuda.Device(device)
        self.gpu_name = self.device.name()
        self._ctx = self.device.make_context()  # created current on this thread
        self.cuda.Context.pop()

    def __enter__(self):
        self._ctx.push()
        return self

    def __exit__(self, *exc):
        self.cuda.Context.pop()

    def release(self):
        """Destroy the context (call once, with it not current)."""
        if self._ctx is not None:
            self._ctx.detach()
            self._ctx = None


class PinnedBuffer:
    """A page-locked host array and a device allocation of `capacity` elements of `dtype`.

    view(shape) is a view of the host array for one call's shape (never a new array);
    to_device/to_host copy that view asynchronously on `stream`.
    """

    def __init__(self, cuda, name, capacity, dtype):
        self.cuda = cuda
        self.name = name
        self.capacity = int(capacity)
        self.host = cuda.pagelocked_empty(self.capacity, np.dtype(dtype))
        self.device = cuda.mem_alloc(self.host.nbytes)

    @property
    def address(self):
        return int(self.device)

    def view(self, shape):
        n = int(np.prod(shape))
        if n > self.capacity:
            raise BackendError(
                "tensor %r of shape %s needs %d elements, more than the %d its buffer holds "
                "(the engine's largest shape)" % (self.name, list(shape), n, self.capacity)
            )
        return self.host[:n].reshape(shape)

    def to_device(self, view, stream):
        self.cuda.memcpy_htod_async(self.device, view, stream)

    def to_host(self, view, stream):
        self.cuda.memcpy_dtoh_async(view, self.device, stream)

    def free(self):
        self.device.free()
