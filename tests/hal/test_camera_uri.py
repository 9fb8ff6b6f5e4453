"""Camera URIs and their options: what is accepted, what it means, and the errors otherwise."""

import pytest

from hal.camera import SCHEMES, CameraURIError
from hal.camera.uri import parse


@pytest.mark.parametrize(
    "uri, scheme, location, options",
    [
        ("csi://0", "csi", 0, {}),
        ("csi://1?flip=2&sensor_mode=3", "csi", 1, {"flip": 2, "sensor_mode": 3}),
        ("CSI://0?capture_width=1920&capture_height=1080", "csi", 0,
         {"capture_width": 1920, "capture_height": 1080}),
        ("v4l2:///dev/video1", "v4l2", "/dev/video1", {}),
        ("v4l2://0?format=MJPG", "v4l2", "/dev/video0", {"format": "mjpg"}),
        ("file:///data/belt.mp4?loop=1", "file", "/data/belt.mp4", {"loop": True}),
        ("file://clips/my%20run.avi?loop=no", "file", "clips/my run.avi", {"loop": False}),
        ("file:///imgs?fps=12.5&backend=opencv", "file", "/imgs",
         {"fps": 12.5, "backend": "opencv"}),
        ("rtsp://10.0.0.5:8554/cam?latency=50", "rtsp", "rtsp://10.0.0.5:8554/cam",
         {"latency": 50}),
        ("rtsp://u:p@cam/live?channel=2&latency=0", "rtsp", "rtsp://u:p@cam/live?channel=2",
         {"latency": 0}),
        ("test://", "test", "smpte", {}),
        ("test://ball?width=160&height=120", "test", "ball", {"width": 160, "height": 120}),
        ("sim://conveyor", "sim", "conveyor", {}),
    ],
)  # fmt: skip
def test_uris_parse_to_scheme_location_and_typed_options(uri, scheme, location, options):
    parsed = parse(uri)
    assert (parsed.scheme, parsed.location, parsed.options) == (scheme, location, options)


def test_keywords_join_the_query_and_win_over_it_and_none_means_not_given():
    parsed = parse("csi://0?flip=2&width=320", flip=0, width=None, height=240, fps=15)
    assert parsed.options == {"flip": 0, "width": 320, "height": 240, "fps": 15.0}


def test_unknown_scheme_lists_every_supported_one():
    with pytest.raises(CameraURIError) as caught:
        parse("gige://cam1")
    message = str(caught.value)
    assert message.startswith("camera URI 'gige://cam1' has an unsupported scheme 'gige'")
    for scheme in SCHEMES.values():
        assert scheme.form in message


@pytest.mark.parametrize(
    "uri, hint",
    [
        ("/dev/video0", "did you mean v4l2:///dev/video0?"),
        ("0", "did you mean csi://0 or v4l2:///dev/video0?"),
        ("belt.mp4", "did you mean file://belt.mp4?"),
    ],
)
def test_a_uri_without_scheme_gets_a_suggestion(uri, hint):
    with pytest.raises(CameraURIError, match=f"camera URI '{uri}' has no scheme"):
        parse(uri)
    with pytest.raises(CameraURIError, match=hint.replace("?", r"\?")):
        parse(uri)


def test_unknown_option_lists_the_options_of_that_scheme():
    with pytest.raises(CameraURIError) as caught:
        parse("csi://0?flp=2")
    assert str(caught.value) == (
        "camera URI 'csi://0?flp=2': unknown option 'flp'; csi:// takes "
        "flip (nvvidconv flip-method, 0-7; 2 = rotate 180), sensor_mode (nvarguscamerasrc "
        "sensor-mode), capture_width (sensor capture width, default 1280), capture_height "
        "(sensor capture height, default 720), width (frame width in pixels), height (frame "
        "height in pixels), fps (frames per second)"
    )


@pytest.mark.parametrize(
    "uri, keywords, message",
    [
        ("csi://0?flip=9", {}, "option flip: expected a whole number from 0 to 7, got 9"),
        ("csi://0", {"flip": "two"}, "option flip: expected a whole number, got 'two'"),
        ("csi://0", {"sensor_mode": -1}, "option sensor_mode: expected a whole number >= 0"),
        ("test://", {"width": 0}, "option width: expected a whole number >= 1, got 0"),
        ("test://", {"width": 1.5}, "option width: expected a whole number, got 1.5"),
        ("test://", {"fps": "fast"}, "option fps: expected a number, got 'fast'"),
        ("test://", {"fps": 0}, "option fps: expected a number above 0, got 0"),
        ("file:///a.mp4?loop=maybe", {}, "option loop: expected 1/0, true/false, yes/no or on/off"),
        ("v4l2://0?format=h264", {}, "option format: expected one of raw, mjpg, got 'h264'"),
        ("v4l2://0?backend=ffmpeg", {}, "expected one of gstreamer, opencv, got 'ffmpeg'"),
        ("test://", {"loop": 1}, "unknown option 'loop'; test:// takes width"),
        ("sim://x?flip=1", {}, "unknown option 'flip'; sim:// takes width"),
    ],
)
def test_bad_option_values_say_what_is_accepted(uri, keywords, message):
    with pytest.raises(CameraURIError) as caught:
        parse(uri, **keywords)
    assert message in str(caught.value)


@pytest.mark.parametrize(
    "uri, message",
    [
        ("csi://left", "the sensor id 'left' is not a number; write it as csi://N"),
        ("v4l2://video0", "'video0' is not a device path; write it as v4l2:///dev/videoN"),
        ("file://", "no path given; write it as file://PATH"),
        ("rtsp:///path", "no host given; write it as rtsp://HOST[:PORT]/PATH"),
        ("sim://", "no name given; write it as sim://NAME"),
        ("test://plaid", "unknown test pattern 'plaid'; use one of smpte, snow, black"),
    ],
)
def test_bad_locations_say_how_to_write_them(uri, message):
    with pytest.raises(CameraURIError, match="camera URI") as caught:
        parse(uri)
    assert message in str(caught.value)


def test_uri_errors_are_value_errors_too():
    with pytest.raises(ValueError):
        parse("csi://0?flip=9")
