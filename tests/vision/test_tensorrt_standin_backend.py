"""The TensorRT backend against stand-ins of `tensorrt` (8.2-like bindings API and 10-like
named tensors) and `pycuda.driver` (see trt_standin.py): outputs, binding order, buffers,
context push/pop across threads, dynamic shapes, engine building and caching.

The stand-in engines run the same ONNX through ONNX Runtime, so outputs are compared with
the ONNX Runtime backend's; what is under test is the backend's handling of the APIs."""

import logging
import os
import shutil
import threading

import numpy as np
import pytest

pytest.importorskip("onnxruntime", reason="the TensorRT stand-in runs models in onnxruntime")

import trt_standin

from nanobot.vision import backends
from nanobot.vision.backends import BackendError

DATA = os.path.join(os.path.dirname(__file__), "data")
GENERATIONS = ["8.2", "10"]


def model(name):
    return os.path.join(DATA, name + ".onnx")


@pytest.fixture(params=GENERATIONS)
def standin(request, monkeypatch):
    return trt_standin.install(monkeypatch, request.param)


@pytest.fixture
def models(tmp_path):
    """The test models copied to a folder of their own (engines get cached next to them)."""
    for name in os.listdir(DATA):
        shutil.copy(os.path.join(DATA, name), str(tmp_path))
    return lambda name: str(tmp_path / (name + ".onnx"))


def reference(path, feeds):
    with backends.load(path, "onnxruntime") as ort:
        return ort.infer(feeds)


def frames(n, shape=(1, 3, 64, 64), seed=0):
    rng = np.random.RandomState(seed)
    return [rng.rand(*shape).astype(np.float32) for _ in range(n)]


@pytest.mark.parametrize("name", ["grid_yolov8", "grid_yolov5", "grid_ssd"])
def test_tensorrt_standin_outputs_match_onnxruntime_in_model_order(standin, models, name):
    with backends.load(models(name), "tensorrt", precision="fp32") as trt:
        assert [t.name for t in trt.outputs] == [
            t.name for t in backends.load(models(name), "onnxruntime").outputs
        ]
        for x in frames(3):
            feeds = {trt.inputs[0].name: x}
            got, want = trt.infer(feeds), reference(models(name), feeds)
            assert list(got) == list(want)
            for key in want:
                assert got[key].dtype == np.float32 and got[key].shape == want[key].shape
                np.testing.assert_array_equal(got[key], want[key])
        assert standin.cuda.context_depth() == 0  # every push popped
        assert standin.cuda.pageable_async_copies == 0  # only page-locked host memory
        assert not standin.trt_errors


def test_tensorrt_standin_uses_the_api_of_its_generation(standin, models):
    with backends.load(models("grid_yolov8"), "tensorrt") as trt:
        trt.infer({"images": frames(1)[0]})
    if standin.generation == "8.2":
        assert "execute_async_v2" in standin.calls and "set_tensor_address" not in standin.calls
        assert "create_network(1)" in standin.calls  # EXPLICIT_BATCH
        assert trt.io.api.startswith("bindings")
    else:
        assert "execute_async_v3" in standin.calls and "execute_async_v2" not in standin.calls
        assert "create_network(0)" in standin.calls
        assert not hasattr(trt._engine, "num_bindings")  # removed in 10: misuse would fail
        assert not hasattr(trt._context, "execute_async_v2")


def test_tensorrt_standin_outputs_are_copies_and_buffers_are_reused(standin, models):
    with backends.load(models("grid_yolov8"), "tensorrt") as trt:
        a, b = frames(2)
        out_a = trt.infer({"images": a})["output0"]
        allocs = standin.calls.count("mem_alloc")
        host = {n: buf.host for n, buf in trt._buffers.items()}
        out_b = trt.infer({"images": b})["output0"]
        assert standin.calls.count("mem_alloc") == allocs  # nothing allocated per call
        assert all(trt._buffers[n].host is h for n, h in host.items())  # never rebound
        assert not np.shares_memory(out_a, trt._buffers["output0"].host)
        np.testing.assert_allclose(
            out_a, reference(models("grid_yolov8"), {"images": a})["output0"], atol=2e-3
        )
        assert not np.allclose(out_a, out_b)


def test_tensorrt_standin_fp16_engine_is_close_to_fp32(standin, models):
    x = frames(1)[0]
    with backends.load(models("grid_ssd"), "tensorrt", precision="fp16") as trt:
        got = trt.infer({"input_0": x})
    want = reference(models("grid_ssd"), {"input_0": x})
    np.testing.assert_allclose(got["scores"], want["scores"], atol=1e-3)
    assert not np.array_equal(got["scores"], want["scores"])  # it really is half precision


def test_tensorrt_standin_runs_on_another_thread_with_its_own_context(standin, models):
    """The detector node calls infer() from its node thread: the backend must make its
    context current there (a thread with no current context fails in pycuda)."""
    with backends.load(models("grid_yolov8"), "tensorrt") as trt:
        with pytest.raises(standin.cuda.LogicError, match="explicit_context_dependent failed"):
            standin.cuda.mem_alloc(16)  # no context is left current on this thread
        results, errors = [], []

        def worker():
            try:
                for x in frames(3, seed=1):
                    results.append(trt.infer({"images": x})["output0"])
                results.append(standin.cuda.context_depth())
            except Exception as e:  # reported to the test thread below
                errors.append(e)

        t = threading.Thread(target=worker)
        t.start()
        t.join()
        assert not errors
        assert results[-1] == 0
        want = reference(models("grid_yolov8"), {"images": frames(3, seed=1)[2]})["output0"]
        np.testing.assert_allclose(results[2], want, atol=2e-3)
    pushes, pops = standin.calls.count("push"), standin.calls.count("pop")
    assert pushes == pops - 1  # make_context pushes once without push(); all popped


def test_tensorrt_standin_close_frees_device_memory_and_the_context(standin, models):
    trt = backends.load(models("grid_ssd"), "tensorrt")
    assert standin.cuda.live_allocations() == 3  # input_0, scores, boxes
    trt.close()
    assert standin.cuda.live_allocations() == 0
    assert standin.calls[-1] == "detach"
    trt.close()  # twice is harmless


def test_tensorrt_standin_dynamic_batch_within_the_profile(standin, models):
    path = models("grid_yolov8_dynamic")
    with backends.load(path, "tensorrt", input_shape=(1, 3, 64, 64), max_batch=2) as trt:
        assert trt.inputs[0].shape == (None, 3, 64, 64)
        for batch in (2, 1, 2):
            (x,) = frames(1, shape=(batch, 3, 64, 64), seed=batch)
            got = trt.infer({"images": x})["output0"]
            assert got.shape == (batch, 7, 64)
            np.testing.assert_allclose(got, reference(path, {"images": x})["output0"], atol=2e-3)
        with pytest.raises(BackendError, match="outside the engine's optimisation profile"):
            trt.infer({"images": frames(1, shape=(3, 3, 64, 64))[0]})
    assert (
        standin.calls.count(
            "set_binding_shape" if standin.generation == "8.2" else "set_input_shape"
        )
        == 4
    )


def test_tensorrt_standin_wrong_input_shape_or_dtype_is_one_sentence(standin, models):
    with backends.load(models("grid_yolov8"), "tensorrt") as trt:
        with pytest.raises(
            BackendError,
            match=r"input 'images' .* has shape \[1, 3, 64, 64\], not \[1, 3, 32, 64\]",
        ):
            trt.infer({"images": np.zeros((1, 3, 32, 64), np.float32)})
        with pytest.raises(BackendError, match="must be a float32 numpy array, not float64"):
            trt.infer({"images": np.zeros((1, 3, 64, 64))})


def test_tensorrt_standin_pinned_buffer_size_is_checked(standin, models):
    with backends.load(models("grid_yolov8"), "tensorrt") as trt:
        buf = trt._buffers["images"]
        with pytest.raises(
            BackendError,
            match=r"'images' of shape \[2, 3, 64, 64\] needs 24576 elements, more than the 12288",
        ):
            buf.view((2, 3, 64, 64))
        # and the stand-in driver itself refuses an oversized copy as pycuda does
        with trt.gpu:
            big = standin.cuda.pagelocked_empty(2 * 3 * 64 * 64, np.float32)
            with pytest.raises(
                standin.cuda.LogicError, match="cuMemcpyHtoDAsync failed: invalid argument"
            ):
                standin.cuda.memcpy_htod_async(buf.device, big, trt._stream)


# ---------------------------------------------------------------- engines: build and cache


def test_tensorrt_standin_engine_is_cached_by_hash_version_gpu_and_precision(
    standin, models, caplog
):
    caplog.set_level(logging.INFO, "nanobot.vision")
    path = models("grid_yolov8")
    with backends.load(path, "tensorrt", precision="fp16") as first:
        assert first.built
    name = os.path.basename(first.engine_path)
    from nanobot.vision.backends.engine_cache import model_hash

    assert name == "grid_yolov8.onnx.%s.trt%s.Stand-in-GPU.fp16.engine" % (
        model_hash(path),
        standin.version,
    )
    assert os.path.dirname(first.engine_path) == os.path.dirname(path)  # next to the model
    assert "building a TensorRT %s fp16 engine" % standin.version in caplog.text
    with backends.load(path, "tensorrt", precision="fp16") as second:
        assert not second.built and second.engine_path == first.engine_path
    assert standin.builds == 1
    with backends.load(path, "tensorrt", precision="fp32") as third:
        assert third.built and third.engine_path.endswith(".fp32.engine")
    with open(path, "ab") as f:
        f.write(b"\xa0\x06\x01")  # an unknown protobuf field: same name, new content
    with backends.load(path, "tensorrt", precision="fp16") as fourth:
        assert fourth.built and fourth.engine_path != first.engine_path
    assert standin.builds == 3


def test_tensorrt_standin_cache_dir_and_env(standin, models, tmp_path, monkeypatch):
    cache = tmp_path / "engines"
    with backends.load(models("grid_yolov8"), "tensorrt", cache_dir=str(cache)) as trt:
        assert os.path.dirname(trt.engine_path) == str(cache)
    assert os.listdir(str(cache)) == [os.path.basename(trt.engine_path)]


def test_tensorrt_standin_foreign_cached_engine_is_rebuilt_with_a_log_line(
    monkeypatch, models, caplog
):
    path = models("grid_yolov8")
    old = trt_standin.install(monkeypatch, "8.2", gpu_name="Stand-in GPU")
    with backends.load(path, "tensorrt") as trt, open(trt.engine_path, "rb") as f:
        foreign = f.read()
    # The same cache name, written by another GPU (e.g. copied from another board).
    other = trt_standin.install(monkeypatch, "8.2", gpu_name="Other GPU")
    assert old.builds == 1
    target = trt.engine_path.replace("Stand-in-GPU", "Other-GPU")
    with open(target, "wb") as f:
        f.write(foreign)
    caplog.set_level(logging.INFO, "nanobot.vision")
    with backends.load(path, "tensorrt") as trt2:
        assert trt2.engine_path == target and trt2.built
        np.testing.assert_allclose(
            trt2.infer({"images": frames(1)[0]})["output0"],
            reference(path, {"images": frames(1)[0]})["output0"],
            atol=2e-3,
        )
    assert other.builds == 1
    assert "does not load with TensorRT 8.2.1.8 on Other GPU" in caplog.text
    assert "rebuilding it" in caplog.text
    assert "incompatible device" in caplog.text  # TensorRT's own error, through logging
    with backends.load(path, "tensorrt") as trt3:  # the rebuilt file now loads
        assert not trt3.built


def test_tensorrt_standin_garbage_in_the_cache_is_a_magic_tag_mismatch(standin, models, caplog):
    path = models("grid_ssd")
    with backends.load(path, "tensorrt") as trt:
        engine_path = trt.engine_path
    with open(engine_path, "wb") as f:
        f.write(b"not an engine")
    caplog.set_level(logging.INFO, "nanobot.vision")
    with backends.load(path, "tensorrt") as trt:
        assert trt.built
    assert "Magic Tag does not match" in caplog.text and "rebuilding it" in caplog.text


def test_tensorrt_standin_loads_a_ready_engine_file(monkeypatch, models, tmp_path):
    path = models("grid_ssd")
    trt_standin.install(monkeypatch, "10")
    with backends.load(path, "tensorrt") as trt:
        plan = str(tmp_path / "ssd.plan")
        shutil.copy(trt.engine_path, plan)
    with backends.load(plan, "tensorrt") as ready:
        assert not ready.built and [t.name for t in ready.outputs] == ["scores", "boxes"]
        x = frames(1)[0]
        np.testing.assert_allclose(
            ready.infer({"input_0": x})["scores"],
            reference(path, {"input_0": x})["scores"],
            atol=2e-3,
        )
    trt_standin.install(monkeypatch, "8.2")  # another TensorRT: the plan is foreign
    with pytest.raises(
        BackendError,
        match=r"ssd.plan does not load with TensorRT 8.2.1.8 .*'magic tag' mismatch.*"
        r"nanobot detect build",
    ):
        backends.load(plan, "tensorrt")
    with pytest.raises(BackendError, match="is a TensorRT engine: only backend 'tensorrt' runs it"):
        backends.load(plan, "onnxruntime")


def test_tensorrt_standin_builder_settings_by_feature(standin, models, monkeypatch):
    seen = {}
    real_build = standin.trt.Builder.build_serialized_network

    def spy(builder, network, config):
        seen["flags"] = set(config.flags)
        if standin.generation == "8.2":
            seen["workspace"] = config.max_workspace_size
            assert not hasattr(config, "set_memory_pool_limit")
        else:
            seen["workspace"] = config.pool_limits[standin.trt.MemoryPoolType.WORKSPACE]
            assert config.progress_monitor is not None
        return real_build(builder, network, config)

    monkeypatch.setattr(standin.trt.Builder, "build_serialized_network", spy)
    backends.load(models("grid_yolov8"), "tensorrt", precision="fp16").close()
    assert seen == {"flags": {standin.trt.BuilderFlag.FP16}, "workspace": 1 << 28}
    backends.load(models("grid_yolov8"), "tensorrt", precision="fp32").close()
    assert seen["flags"] == set()


def test_tensorrt_standin_no_fast_fp16_builds_fp32(monkeypatch, models, caplog):
    standin = trt_standin.install(monkeypatch, "8.2", fast_fp16=False)
    caplog.set_level(logging.INFO, "nanobot.vision")
    with backends.load(models("grid_ssd"), "tensorrt", precision="fp16") as trt:
        x = frames(1)[0]
        np.testing.assert_array_equal(
            trt.infer({"input_0": x})["scores"],
            reference(models("grid_ssd"), {"input_0": x})["scores"],
        )
    assert "no fast FP16: building an FP32 engine" in caplog.text
    assert standin.builds == 1


def test_tensorrt_standin_dynamic_input_without_a_size_is_refused(standin, models):
    # A model with a dynamic batch gets batch 1..max_batch without being told; an input
    # whose height/width are dynamic needs a size: simulated by a profile-less build.
    from nanobot.vision.backends import trt_build

    with _context(standin):
        logger = trt_build.make_logger(standin.trt)
        with pytest.raises(
            BackendError,
            match=r"input 'images' of .* has dynamic shape \[-1, 3, 64, 64\]: give its size",
        ):
            trt_build.build_engine(standin.trt, logger, models("grid_yolov8_dynamic"), "fp32", {})


class _context:
    def __init__(self, standin):
        standin.cuda.init()
        self.cuda = standin.cuda

    def __enter__(self):
        self.ctx = self.cuda.Device(0).make_context()

    def __exit__(self, *exc):
        self.cuda.Context.pop()
        self.ctx.detach()


# ---------------------------------------------------------------- auto


def test_tensorrt_standin_auto_prefers_tensorrt_and_says_so(standin, models, caplog):
    caplog.set_level(logging.INFO, "nanobot.vision")
    with backends.load(models("grid_yolov8"), "auto") as b:
        assert b.name == "tensorrt"
    assert "backend tensorrt (TensorRT %s on Stand-in GPU)" % standin.version in caplog.text


def test_auto_without_tensorrt_picks_onnxruntime_and_says_why(monkeypatch, caplog):
    monkeypatch.setitem(__import__("sys").modules, "tensorrt", None)
    caplog.set_level(logging.INFO, "nanobot.vision")
    with backends.load(model("grid_yolov8"), "auto") as b:
        assert b.name == "onnxruntime"
    assert "backend onnxruntime" in caplog.text
    assert "passed over: tensorrt: TensorRT is not installed" in caplog.text
