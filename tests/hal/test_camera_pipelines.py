"""The GStreamer pipeline strings, exactly: these run on boards CI does not have."""

from hal.camera import pipelines

# jetson-utils / JetsonHacks' CSI pipeline, with the appsink settings of CSI-Camera PR #45.
CSI_640x480 = (
    "nvarguscamerasrc sensor-id=0 ! "
    "video/x-raw(memory:NVMM),width=1280,height=720,framerate=30/1,format=NV12 ! "
    "nvvidconv flip-method=0 ! video/x-raw,width=640,height=480,format=BGRx ! "
    "videoconvert ! video/x-raw,format=BGR ! appsink drop=true max-buffers=1 sync=false"
)


def test_csi_pipeline_is_the_one_jetson_users_know():
    assert pipelines.csi(0, width=640, height=480, fps=30) == CSI_640x480


def test_csi_pipeline_with_sensor_mode_flip_and_capture_size():
    assert pipelines.csi(
        1, fps=60, flip=2, sensor_mode=4, capture_width=1640, capture_height=1232
    ) == (
        "nvarguscamerasrc sensor-id=1 sensor-mode=4 ! "
        "video/x-raw(memory:NVMM),width=1640,height=1232,framerate=60/1,format=NV12 ! "
        "nvvidconv flip-method=2 ! video/x-raw,width=1640,height=1232,format=BGRx ! "
        "videoconvert ! video/x-raw,format=BGR ! appsink drop=true max-buffers=1 sync=false"
    )


def test_v4l2_mjpg_pipeline_decodes_with_jpegdec():
    assert pipelines.v4l2("/dev/video1", 1280, 720, 30, format="mjpg") == (
        "v4l2src device=/dev/video1 ! image/jpeg,width=1280,height=720,framerate=30/1 ! "
        "jpegdec ! videoconvert ! video/x-raw,format=BGR ! "
        "appsink drop=true max-buffers=1 sync=false"
    )


def test_v4l2_raw_pipeline_leaves_unset_caps_to_the_driver():
    assert pipelines.v4l2("/dev/video0") == (
        "v4l2src device=/dev/video0 ! video/x-raw ! videoconvert ! video/x-raw,format=BGR ! "
        "appsink drop=true max-buffers=1 sync=false"
    )


def test_video_file_pipeline_plays_at_the_file_rate_and_quotes_its_path():
    assert pipelines.video_file("/media/my clip.mp4", width=320, height=240) == (
        'filesrc location="/media/my clip.mp4" ! decodebin ! videoconvert ! videoscale ! '
        "video/x-raw,format=BGR,width=320,height=240 ! appsink drop=true max-buffers=1 sync=true"
    )


def test_rtsp_pipeline_sets_latency_and_rate():
    assert pipelines.rtsp("rtsp://cam:8554/live?ch=1", fps=15, latency=100) == (
        "rtspsrc location=rtsp://cam:8554/live?ch=1 latency=100 ! decodebin ! videoconvert ! "
        "videoscale ! videorate ! video/x-raw,format=BGR,framerate=15/1 ! "
        "appsink drop=true max-buffers=1 sync=false"
    )


def test_test_pattern_pipeline_is_live_with_ntsc_rates_as_fractions():
    assert pipelines.test_pattern("ball", 160, 120, 29.97) == (
        "videotestsrc pattern=ball is-live=true ! "
        "video/x-raw,width=160,height=120,framerate=2997/100 ! videoconvert ! "
        "video/x-raw,format=BGR ! appsink drop=true max-buffers=1 sync=false"
    )
