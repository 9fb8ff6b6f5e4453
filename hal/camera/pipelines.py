"""GStreamer pipeline descriptions, one builder per kind of source; each ends in the same sink.

Every pipeline ends in BGR frames delivered to an appsink that keeps only the newest buffer
(``drop=true max-buffers=1``) and, for live sources, does not wait on the clock
(``sync=false``): without these a slow reader sees about half a second of lag. The strings are
plain text so they can be printed, tested and pasted into ``gst-launch-1.0``.
"""

from fractions import Fraction

APPSINK = "appsink drop=true max-buffers=1 sync=false"
TO_BGR = "videoconvert ! video/x-raw,format=BGR"


def csi(
    sensor_id=0,
    width=None,
    height=None,
    fps=None,
    flip=0,
    sensor_mode=None,
    capture_width=1280,
    capture_height=720,
):
    """A Jetson CSI camera (nvarguscamerasrc), as jetson-utils and JetsonHacks build it.

    The sensor captures capture_width x capture_height at `fps` (default 30) in NVMM memory;
    nvvidconv flips and scales on the VIC to width x height (default: the capture size).
    """
    source = f"nvarguscamerasrc sensor-id={sensor_id}"
    if sensor_mode is not None:
        source += f" sensor-mode={sensor_mode}"
    return " ! ".join((
        source,
        _caps(
            "video/x-raw(memory:NVMM)",
            width=capture_width, height=capture_height, framerate=_rate(fps or 30), format="NV12",
        ),
        f"nvvidconv flip-method={flip}",
        _caps(
            "video/x-raw",
            width=width or capture_width, height=height or capture_height, format="BGRx",
        ),
        TO_BGR,
        APPSINK,
    ))  # fmt: skip


def v4l2(device="/dev/video0", width=None, height=None, fps=None, format="raw"):
    """A V4L2 (USB) camera; ``format="mjpg"`` asks it for MJPG, decoded by jpegdec on the CPU."""
    size = dict(width=width, height=height, framerate=_rate(fps))
    if format == "mjpg":
        chain = (_caps("image/jpeg", **size), "jpegdec")
    else:
        chain = (_caps("video/x-raw", **size),)
    return " ! ".join((f"v4l2src device={_quote(device)}", *chain, TO_BGR, APPSINK))


def video_file(path, width=None, height=None, fps=None):
    """A video file of any container/codec decodebin knows, played at its own frame rate."""
    return _decoded(f"filesrc location={_quote(path)}", width, height, fps, sync=True)


def rtsp(url, width=None, height=None, fps=None, latency=200):
    """An RTSP stream; `latency` is rtspsrc's jitter buffer in milliseconds."""
    return _decoded(f"rtspsrc location={_quote(url)} latency={latency}", width, height, fps)


def test_pattern(pattern="smpte", width=None, height=None, fps=None):
    """videotestsrc as a live camera (640x480 at 30 fps unless told otherwise)."""
    caps = _caps(
        "video/x-raw", width=width or 640, height=height or 480, framerate=_rate(fps or 30)
    )
    return " ! ".join((f"videotestsrc pattern={pattern} is-live=true", caps, TO_BGR, APPSINK))


def _decoded(source, width, height, fps, sync=False):
    chain = [source, "decodebin", "videoconvert", "videoscale"]
    if fps:
        chain.append("videorate")
    chain.append(
        _caps("video/x-raw", format="BGR", width=width, height=height, framerate=_rate(fps))
    )
    chain.append(APPSINK.replace("sync=false", "sync=true") if sync else APPSINK)
    return " ! ".join(chain)


def _caps(media, **fields):
    """Caps text, fields in the order given, those that are None left out."""
    return ",".join([media] + [f"{k}={v}" for k, v in fields.items() if v is not None])


def _rate(fps):
    if fps is None:
        return None
    rate = Fraction(fps).limit_denominator(1001)
    return f"{rate.numerator}/{rate.denominator}"


def _quote(value):
    """A property value as gst-launch syntax reads it: quoted when it has spaces or quotes."""
    text = str(value)
    if any(c in text for c in " \"'!\\"):
        return '"{}"'.format(text.replace("\\", "\\\\").replace('"', '\\"'))
    return text
