"""python -m apps.sorter.calibrate on a synthetic checkerboard rendered with a known scale."""

import cv2
import numpy as np
import pytest

from apps.sorter import calibrate

PX_PER_MM, X0, Y0 = 2.4, 20.0, -100.0


def checkerboard(square_mm=20.0, squares=(8, 6), corner_mm=(100.0, -40.0), angle=0.0):
    """A 640x480 frame of a board whose first inner corner lies at belt `corner_mm`."""
    image = np.full((480, 640), 200, np.uint8)
    s = square_mm * PX_PER_MM
    u0 = (corner_mm[0] - square_mm - X0) * PX_PER_MM  # the board's outer corner
    v0 = (corner_mm[1] - square_mm - Y0) * PX_PER_MM
    for r in range(squares[1]):
        for c in range(squares[0]):
            if (r + c) % 2 == 0:
                pts = np.array([[c, r], [c + 1, r], [c + 1, r + 1], [c, r + 1]], float) * s
                pts += (u0, v0)
                cv2.fillConvexPoly(image, np.round(pts * 16).astype(np.int32), 30, cv2.LINE_AA, 4)
    if angle:
        m = cv2.getRotationMatrix2D((320, 240), angle, 1.0)
        image = cv2.warpAffine(image, m, (640, 480), borderValue=200)
    return cv2.GaussianBlur(image, (3, 3), 0)


def test_measures_scale_and_origin_of_a_straight_down_view():
    cal = calibrate.measure(checkerboard(), (7, 5), 20.0, (100.0, -40.0))
    assert cal["width"] == 640 and cal["height"] == 480
    assert cal["px_per_mm"] == pytest.approx(PX_PER_MM, rel=0.005)
    assert cal["x0"] == pytest.approx(X0, abs=0.5)
    assert cal["y0"] == pytest.approx(Y0, abs=0.5)


def test_refuses_a_rotated_board_and_a_frame_without_one():
    with pytest.raises(calibrate.CalibrationError, match="tilted or rotated"):
        calibrate.measure(checkerboard(angle=5.0), (7, 5), 20.0, (100.0, -40.0))
    with pytest.raises(calibrate.CalibrationError, match="no 7x5 checkerboard"):
        calibrate.measure(np.full((480, 640), 128, np.uint8), (7, 5), 20.0, (0.0, 0.0))


def test_the_command_writes_the_config_line(tmp_path):
    image = tmp_path / "board.png"
    cv2.imwrite(str(image), checkerboard())
    config = tmp_path / "config.yaml"
    config.write_text(
        "bins: {nut: 0}\ncalibration: {width: 1, height: 1, px_per_mm: 1, x0: 0, y0: 0}\n"
    )
    code = calibrate.main(
        ["--camera", str(image), "--square", "20", "--corners", "7x5", "--origin", "100", "-40",
         "--config", str(config)]
    )  # fmt: skip
    assert code == 0
    text = config.read_text()
    assert text.startswith("bins: {nut: 0}\ncalibration: {width: 640, height: 480, px_per_mm: 2.4")
