"""Camera URIs: the schemes Jetson users know, their options, and the parser that checks both.

A URI names the camera and may carry options in its query string::

    csi://0?flip=2&sensor_mode=3        v4l2:///dev/video1?format=mjpg
    file:///data/belt.mp4?loop=1        rtsp://192.168.1.5:8554/cam?latency=100
    test://ball                         sim://conveyor

Options may equally be given as keywords (``open("csi://0", flip=2)``); a keyword wins over
the same option in the query string. Every option is checked here, before anything is opened.
"""

from collections import OrderedDict, namedtuple
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

from . import options as kinds
from .errors import CameraURIError
from .options import Option

#: videotestsrc's pattern names (GStreamer 1.14 through 1.22 all have these).
TEST_PATTERNS = (
    "smpte", "snow", "black", "white", "red", "green", "blue", "checkers-1", "checkers-2",
    "checkers-4", "checkers-8", "circular", "blink", "smpte75", "zone-plate", "gamut",
    "chroma-zone-plate", "solid-color", "ball", "smpte100", "bar", "pinwheel", "spokes",
    "gradient", "colors",
)  # fmt: skip

SIZE = (
    Option("width", kinds.integer(1), "frame width in pixels"),
    Option("height", kinds.integer(1), "frame height in pixels"),
    Option("fps", kinds.number(), "frames per second"),
)
BACKEND = Option(
    "backend",
    kinds.choice("gstreamer", "opencv"),
    "gstreamer or opencv; default: gstreamer if installed",
)


class Scheme(namedtuple("Scheme", "name form what options")):
    """A URI scheme: its name, the form users write, what it opens, and its own options."""

    __slots__ = ()

    def option(self, name):
        for option in self.options + SIZE:
            if option.name == name:
                return option
        return None

    def describe_options(self):
        return ", ".join(option.describe() for option in self.options + SIZE)


SCHEMES = OrderedDict(
    (scheme.name, scheme)
    for scheme in (
        Scheme("csi", "csi://N", "MIPI CSI camera N through nvarguscamerasrc (Jetson)", (
            Option("flip", kinds.integer(0, 7), "nvvidconv flip-method, 0-7; 2 = rotate 180"),
            Option("sensor_mode", kinds.integer(0), "nvarguscamerasrc sensor-mode"),
            Option("capture_width", kinds.integer(1), "sensor capture width, default 1280"),
            Option("capture_height", kinds.integer(1), "sensor capture height, default 720"),
        )),
        Scheme("v4l2", "v4l2:///dev/videoN", "USB/V4L2 camera", (
            Option("format", kinds.choice("raw", "mjpg"), "raw or mjpg, default raw"),
            BACKEND,
        )),
        Scheme("file", "file://PATH", "video file, image, or folder of images", (
            Option("loop", kinds.boolean, "start again at the end, default 0"),
            BACKEND,
        )),
        Scheme("rtsp", "rtsp://HOST[:PORT]/PATH", "RTSP stream", (
            Option("latency", kinds.integer(0), "jitter buffer in ms, default 200"),
        )),
        Scheme("test", "test://PATTERN", "GStreamer videotestsrc: smpte, ball, snow, ...", ()),
        Scheme("sim", "sim://NAME", "frames from a simulated world registered as NAME", ()),
    )
)  # fmt: skip


class CameraURI(namedtuple("CameraURI", "text scheme location options")):
    """A checked camera URI: `location` is typed per scheme (csi: sensor id; v4l2: device path;
    file: path; rtsp: the URL to open; test: pattern; sim: name); `options` holds typed values
    for the options given (width, height, fps included), absent ones left out."""

    __slots__ = ()

    def get(self, name, default=None):
        return self.options.get(name, default)


def supported():
    """One line per scheme: the form users write and what it opens."""
    return "; ".join(f"{s.form} ({s.what})" for s in SCHEMES.values())


def parse(text, **options):
    """Check `text` and the keyword `options` and return a CameraURI, or raise CameraURIError."""
    if not isinstance(text, str) or "://" not in text:
        raise CameraURIError(
            f"camera URI {text!r} has no scheme{_guess(text)}; use one of: {supported()}"
        )
    parts = urlsplit(text)
    scheme = SCHEMES.get(parts.scheme.lower())
    if scheme is None:
        raise CameraURIError(
            f"camera URI {text!r} has an unsupported scheme {parts.scheme!r}; "
            f"use one of: {supported()}"
        )
    given, passthrough = _query(parts.query, scheme)
    given.update((name, value) for name, value in options.items() if value is not None)
    typed = {name: _check(text, scheme, name, value) for name, value in given.items()}
    location = _LOCATIONS[scheme.name](text, parts, passthrough)
    return CameraURI(text, scheme.name, location, typed)


def _query(query, scheme):
    """Split a query string into nanobot's options and, for rtsp://, the camera's own."""
    given, passthrough = {}, []
    for name, value in parse_qsl(query, keep_blank_values=True):
        if scheme.name == "rtsp" and scheme.option(name) is None:
            passthrough.append((name, value))  # a parameter the RTSP server itself reads
        else:
            given[name] = value
    return given, passthrough


def _check(text, scheme, name, value):
    option = scheme.option(name)
    if option is None:
        raise CameraURIError(
            f"camera URI {text!r}: unknown option {name!r}; "
            f"{scheme.name}:// takes {scheme.describe_options()}"
        )
    try:
        return option.parse(value)
    except ValueError as exc:
        raise CameraURIError(f"camera URI {text!r}: option {name}: {exc}") from None


def _guess(text):
    text = str(text)
    if text.startswith("/dev/video"):
        return f" (did you mean v4l2://{text}?)"
    if text.isdigit():
        return f" (did you mean csi://{text} or v4l2:///dev/video{text}?)"
    if text:
        return f" (did you mean file://{text}?)"
    return ""


def _bad_location(text, scheme, why):
    return CameraURIError(f"camera URI {text!r}: {why}; write it as {SCHEMES[scheme].form}")


def _csi(text, parts, _):
    where = parts.netloc or parts.path.strip("/")
    if not where.isdigit():
        raise _bad_location(text, "csi", f"the sensor id {where!r} is not a number")
    return int(where)


def _v4l2(text, parts, _):
    where = parts.netloc + parts.path
    if where.isdigit():
        return "/dev/video" + where
    if not where.startswith("/dev/"):
        raise _bad_location(text, "v4l2", f"{where!r} is not a device path")
    return where


def _file(text, parts, _):
    where = unquote(parts.netloc + parts.path)
    if not where:
        raise _bad_location(text, "file", "no path given")
    return where


def _rtsp(text, parts, passthrough):
    if not parts.netloc:
        raise _bad_location(text, "rtsp", "no host given")
    return urlunsplit(("rtsp", parts.netloc, parts.path, urlencode(passthrough), ""))


def _test(text, parts, _):
    pattern = (parts.netloc + parts.path).strip("/").lower() or "smpte"
    if pattern not in TEST_PATTERNS:
        raise CameraURIError(
            f"camera URI {text!r}: unknown test pattern {pattern!r}; "
            f"use one of {', '.join(TEST_PATTERNS)}"
        )
    return pattern


def _sim(text, parts, _):
    name = (parts.netloc + parts.path).strip("/")
    if not name:
        raise _bad_location(text, "sim", "no name given")
    return name


_LOCATIONS = {"csi": _csi, "v4l2": _v4l2, "file": _file, "rtsp": _rtsp, "test": _test, "sim": _sim}
