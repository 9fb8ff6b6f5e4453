"""CameraNode: frames from any hal.camera URI, published as Images stamped at capture.

    camera:
      class: nanobot.nodes.camera:CameraNode
      params: {uri: "csi://0", width: 640, height: 480, fps: 30}

Two ways of reading, chosen by the clock the node runs on:

- On the wall clock (the process executor, the board), hal.camera reads the camera on its own
  thread, keeping the newest frame only, and reconnects with backoff when the camera drops
  out; a reader thread of this node publishes each new frame as it arrives (the runtime hands
  the publish to the node's thread). `stamp` is the capture time, `frame_id` the camera's
  frame number (a gap says frames were overtaken by newer ones).
- On a virtual clock (the simulation executor) with a sim:// camera, there are no threads: a
  timer at `fps` asks the simulated source for its frame, so frames and stamps are the same
  in every run. `frame_id` counts frame periods (a gap is a frame the world dropped).
  sim:// must have been registered in this process first: by the node hosting the world
  (the sorter's io node with hal: sim), placed before the camera in the graph file and in
  the same group.
"""

import threading

import hal.camera
from hal.camera import CameraClosed, CameraTimeout, CameraURIError, EndOfStream
from hal.camera.uri import parse

from ..msgs import Image
from ..node import Node, Output, Param

__all__ = ["CameraNode"]

#: How long the reader thread waits for a frame before it looks at its stop flag again, s.
POLL = 0.25


class CameraNode(Node):
    """Publishes the frames of camera `uri` on `image` (BGR, stamped with the capture time)."""

    image = Output(Image)
    uri = Param("test://smpte", help="hal camera URI: csi://0, v4l2:///dev/video0, file://..., "
                "test://smpte, sim://conveyor")  # fmt: skip
    width = Param(640, help="frame width in pixels", min=1)
    height = Param(480, help="frame height in pixels", min=1)
    fps = Param(30.0, help="frames per second asked of the camera", min=0.1)

    def setup(self):
        self.frames = 0
        self._camera = self._source = self._thread = None
        self._stopping = threading.Event()
        spec = parse(self.uri)
        if self._runtime.clock.virtual and spec.scheme == "sim":
            self._open_on_timer(spec.location)
        else:
            self._open_with_reader()

    def teardown(self):
        self._stopping.set()
        if self._camera is not None:
            self._camera.close()
        if self._thread is not None:
            self._thread.join(5.0)
        if self._source is not None:
            self._source.close()

    # -- virtual clock: a timer, no threads

    def _open_on_timer(self, name):
        try:
            self._source = hal.camera.sim.lookup(name, self.width, self.height)
        except CameraURIError:
            raise CameraURIError(
                "camera %s: no simulated world registered sim://%s in this process; run the "
                "node hosting the world (the sorter's io node with hal: sim) in the same group "
                "as the camera and before it in the graph file" % (self.uri, name)
            ) from None
        self._source.open()
        self._period_ns = round(1e9 / self.fps)
        self._t0 = self.now_ns()
        self.log.info("camera %s on the virtual clock at %g fps", self.uri, self.fps)
        self.every(1.0 / self.fps, self._grab)

    def _grab(self):
        got = self._source.grab(0.0)
        if got is None:
            return  # dropped by the world, or not due yet
        image, stamp = got
        frame_id = (self.now_ns() - self._t0) // self._period_ns
        self._publish(image, stamp, frame_id)

    # -- wall clock: hal's reader thread and ours

    def _open_with_reader(self):
        if self._runtime.clock.virtual:
            self.log.warning(
                "camera %s is read in real time under a virtual clock: frames are stamped on "
                "arrival and differ from run to run", self.uri
            )  # fmt: skip
        try:
            self._camera = hal.camera.open(
                self.uri, width=self.width, height=self.height, fps=self.fps
            )
        except CameraURIError as error:
            if parse(self.uri).scheme == "sim":
                raise CameraURIError(
                    "%s; run the node hosting the world (the sorter's io node with hal: sim) "
                    "in the same group as the camera and before it in the graph file" % error
                ) from None
            raise
        self._stamp_on_arrival = self._runtime.clock.virtual
        self._thread = threading.Thread(
            target=self._read_frames, name="camera-" + self.name, daemon=True
        )
        self._thread.start()

    def _read_frames(self):
        camera = self._camera
        while not self._stopping.is_set():
            try:
                image, stamp, seq = camera.read(timeout=POLL)
            except CameraTimeout:
                continue
            except EndOfStream:
                self.log.info("camera %s: end of stream", self.uri)
                return
            except CameraClosed:
                return
            except Exception as error:  # a file that failed: say so and stop reading
                self.log.error("camera %s failed: %s", self.uri, error)
                return
            self._publish(image, self.now_ns() if self._stamp_on_arrival else stamp, seq)

    def _publish(self, image, stamp, frame_id):
        self.frames += 1
        self.image.publish(Image(data=image, frame_id=int(frame_id), stamp=stamp), stamp=stamp)
