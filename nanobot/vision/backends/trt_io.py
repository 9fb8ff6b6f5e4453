"""The engine's inputs and outputs through either TensorRT API generation.

- Bindings (TensorRT 8.0-8.4, the Jetson Nano's 8.0/8.2): binding indices,
  get_binding_shape, set_binding_shape, execute_async_v2(bindings=[pointers in index order]).
- Named tensors (8.5+ and 10, where the binding calls are gone): get_tensor_shape,
  set_input_shape, set_tensor_address, execute_async_v3(stream).

for_engine() picks by feature, as NVIDIA's samples do: hasattr(engine, "num_io_tensors").
Shapes are tuples with -1 for dynamic dimensions, as TensorRT reports them.
"""

import collections

import numpy as np

from .base import BackendError

__all__ = ["BindingsIO", "Tensor", "TensorsIO", "for_engine"]


class Tensor(collections.namedtuple("Tensor", "name is_input shape dtype max_shape")):
    """One engine tensor. `max_shape` is the largest shape its profile allows (inputs)."""

    __slots__ = ()


def for_engine(trt, engine, context):
    """The IO adapter for this TensorRT's API generation."""
    if hasattr(engine, "num_io_tensors"):
        return TensorsIO(trt, engine, context)
    return BindingsIO(trt, engine, context)


class _IO:
    api = None

    def __init__(self, trt, engine, context):
        self.trt = trt
        self.engine = engine
        self.context = context
        self.tensors = self._tensors()

    def _tensor(self, name, is_input, shape, trt_dtype, profile):
        shape = tuple(int(d) for d in shape)
        dtype = np.dtype(self.trt.nptype(trt_dtype))
        max_shape = tuple(int(d) for d in profile()[2]) if is_input and -1 in shape else shape
        return Tensor(name, is_input, shape, dtype, max_shape)

    def _check_shape(self, ok, name, shape):
        if not ok:
            raise BackendError(
                "input %r cannot take shape %s: it is outside the engine's optimisation "
                "profile (rebuild the engine for that size)" % (name, list(shape))
            )


class BindingsIO(_IO):
    """TensorRT 8.0-8.4: bindings by index, execute_async_v2."""

    api = "bindings (execute_async_v2)"

    def _tensors(self):
        e = self.engine
        return [
            self._tensor(
                e.get_binding_name(i),
                e.binding_is_input(i),
                e.get_binding_shape(i),
                e.get_binding_dtype(i),
                lambda i=i: e.get_profile_shape(0, i),
            )
            for i in range(e.num_bindings)
        ]

    def set_input_shape(self, name, shape):
        index = self.engine.get_binding_index(name)
        self._check_shape(self.context.set_binding_shape(index, tuple(shape)), name, shape)

    def shape(self, name):
        return tuple(self.context.get_binding_shape(self.engine.get_binding_index(name)))

    def bind(self, addresses):
        """Remember the device address of every tensor (name -> int)."""
        self._bindings = [addresses[t.name] for t in self.tensors]  # binding index order

    def execute(self, stream):
        return self.context.execute_async_v2(bindings=self._bindings, stream_handle=stream.handle)


class TensorsIO(_IO):
    """TensorRT 8.5+ and 10: tensors by name, execute_async_v3."""

    api = "named tensors (execute_async_v3)"

    def _tensors(self):
        e = self.engine
        mode_input = self.trt.TensorIOMode.INPUT
        out = []
        for i in range(e.num_io_tensors):
            name = e.get_tensor_name(i)
            out.append(
                self._tensor(
                    name,
                    e.get_tensor_mode(name) == mode_input,
                    e.get_tensor_shape(name),
                    e.get_tensor_dtype(name),
                    lambda name=name: e.get_tensor_profile_shape(name, 0),
                )
            )
        return out

    def set_input_shape(self, name, shape):
        self._check_shape(self.context.set_input_shape(name, tuple(shape)), name, shape)

    def shape(self, name):
        return tuple(self.context.get_tensor_shape(name))

    def bind(self, addresses):
        for name, address in addresses.items():
            if not self.context.set_tensor_address(name, address):
                raise BackendError("TensorRT refused the device address of tensor %r" % name)

    def execute(self, stream):
        return self.context.execute_async_v3(stream.handle)
