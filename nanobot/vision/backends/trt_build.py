"""Building a TensorRT engine from an ONNX file with the builder API, any version 8.0-10.

What differs between versions is found by feature, not by version number, except the
network flag: EXPLICIT_BATCH is required before TensorRT 10 and deprecated (implied) in 10.

- workspace: config.set_memory_pool_limit(WORKSPACE, n) (8.4+) or max_workspace_size (older)
- FP16 where builder.platform_has_fast_fp16 (the Nano's Maxwell GPU has it)
- dynamic inputs: one optimisation profile from the shapes given
- progress: TensorRT's IProgressMonitor where it exists (8.6+), and always a line every
  PROGRESS_PERIOD seconds, because on a Nano a build takes minutes
"""

import logging
import threading
import time

from .base import BackendError

__all__ = ["build_engine", "make_logger", "trt_major"]

log = logging.getLogger("nanobot.vision")

WORKSPACE_BYTES = 1 << 28  # 256 MB: enough for detectors, modest for a 4 GB Nano
PROGRESS_PERIOD = 15.0


def trt_major(trt):
    return int(str(trt.__version__).split(".")[0])


def make_logger(trt):
    """A TensorRT logger that sends TensorRT's messages to Python logging."""
    severity = trt.ILogger.Severity
    levels = {
        severity.INTERNAL_ERROR: logging.CRITICAL,
        severity.ERROR: logging.ERROR,
        severity.WARNING: logging.WARNING,
        severity.INFO: logging.DEBUG,
        severity.VERBOSE: logging.DEBUG,
    }
    trt_log = logging.getLogger("nanobot.vision.tensorrt")

    class Logger(trt.ILogger):
        def __init__(self):
            trt.ILogger.__init__(self)

        def log(self, level, msg):
            trt_log.log(levels.get(level, logging.INFO), "%s", msg)

    return Logger()


def build_engine(trt, logger, onnx_path, precision, profile_shapes=None, workspace=None):
    """The serialized engine (bytes) of the ONNX model at `onnx_path`.

    `precision` is "fp16" or "fp32" (fp16 falls back to fp32 where the GPU lacks it; see
    `effective_precision`); `profile_shapes` maps each dynamic input to (min, opt, max).
    """
    with open(onnx_path, "rb") as f:
        data = f.read()
    builder = trt.Builder(logger)
    flags = 0
    if trt_major(trt) < 10:
        flags = 1 << int(trt.NetworkDefinitionCreationFlag.EXPLICIT_BATCH)
    network = builder.create_network(flags)
    parser = trt.OnnxParser(network, logger)
    if not parser.parse(data):
        errors = "; ".join(str(parser.get_error(i)) for i in range(parser.num_errors))
        raise BackendError(
            "TensorRT %s cannot parse %s: %s" % (trt.__version__, onnx_path, errors or "?")
        )
    config = builder.create_builder_config()
    workspace = workspace or WORKSPACE_BYTES
    if hasattr(config, "set_memory_pool_limit"):
        config.set_memory_pool_limit(trt.MemoryPoolType.WORKSPACE, workspace)
    else:
        config.max_workspace_size = workspace
    if effective_precision(builder, precision) == "fp16":
        config.set_flag(trt.BuilderFlag.FP16)
    _add_profile(builder, network, config, profile_shapes or {}, onnx_path)
    monitor = None
    if hasattr(trt, "IProgressMonitor") and hasattr(config, "progress_monitor"):
        monitor = _progress_monitor(trt)
        config.progress_monitor = monitor
    log.info(
        "building a TensorRT %s %s engine for %s (minutes on a Jetson Nano)",
        trt.__version__,
        precision,
        onnx_path,
    )
    with _Ticker(onnx_path):
        plan = builder.build_serialized_network(network, config)
    if plan is None:
        raise BackendError(
            "TensorRT %s could not build an engine for %s (see the TensorRT errors above)"
            % (trt.__version__, onnx_path)
        )
    return bytes(memoryview(plan))


def effective_precision(builder, precision):
    """ "fp16" where asked and the GPU has fast FP16, else "fp32"."""
    if precision not in ("fp16", "fp32"):
        raise ValueError("precision must be 'fp16' or 'fp32', not %r" % (precision,))
    if precision == "fp16" and not builder.platform_has_fast_fp16:
        log.warning("this GPU has no fast FP16: building an FP32 engine instead")
        return "fp32"
    return precision


def _add_profile(builder, network, config, shapes, onnx_path):
    dynamic = []
    for i in range(network.num_inputs):
        tensor = network.get_input(i)
        if -1 in tuple(tensor.shape):
            dynamic.append(tensor)
    if not dynamic:
        return
    profile = builder.create_optimization_profile()
    for tensor in dynamic:
        if tensor.name not in shapes:
            raise BackendError(
                "input %r of %s has dynamic shape %s: give its size (input_size in the model "
                "card) so TensorRT can build for it"
                % (tensor.name, onnx_path, list(tuple(tensor.shape)))
            )
        low, opt, high = shapes[tensor.name]
        profile.set_shape(tensor.name, low, opt, high)
    config.add_optimization_profile(profile)


def _progress_monitor(trt):
    class Monitor(trt.IProgressMonitor):
        """Logs each top-level build phase as TensorRT enters it."""

        def __init__(self):
            trt.IProgressMonitor.__init__(self)

        def phase_start(self, phase_name, parent_phase, num_steps):
            if parent_phase is None:
                log.info("  %s (%d steps)", phase_name, num_steps)

        def step_complete(self, phase_name, step):
            return True  # never cancel

        def phase_finish(self, phase_name):
            pass

    return Monitor()


class _Ticker:
    """Logs elapsed time every PROGRESS_PERIOD seconds while a build runs."""

    def __init__(self, what):
        self.what = what
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, name="trt-build-progress", daemon=True)

    def __enter__(self):
        self.start = time.monotonic()
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._done.set()
        self._thread.join()
        log.info("engine for %s built in %.0f s", self.what, time.monotonic() - self.start)

    def _run(self):
        while not self._done.wait(PROGRESS_PERIOD):
            log.info(
                "still building the engine for %s: %.0f s so far",
                self.what,
                time.monotonic() - self.start,
            )
