"""ColourDetector on synthetic frames: coloured shapes drawn at known places on grey."""

import numpy as np
import pytest

pytest.importorskip("cv2")

import cv2

from nanobot.vision.colour import ColourClass, ColourDetector, parse_classes

RED = {"name": "red", "hsv_low": [170, 120, 70], "hsv_high": [10, 255, 255], "min_area": 100}
GREEN = {"name": "green", "hsv_low": [45, 120, 70], "hsv_high": [75, 255, 255], "min_area": 100}
BLUE = {"name": "blue", "hsv_low": [105, 120, 70], "hsv_high": [135, 255, 255], "min_area": 100}


def bgr(h, s=220, v=220):
    """The BGR colour of OpenCV hue `h` (0..179)."""
    return tuple(int(c) for c in cv2.cvtColor(np.uint8([[[h, s, v]]]), cv2.COLOR_HSV2BGR)[0, 0])


def canvas(width=320, height=240, grey=90):
    return np.full((height, width, 3), grey, np.uint8)


def rect(img, x1, y1, x2, y2, colour):
    """A filled rectangle covering pixels x1..x2-1, y1..y2-1: box (x1, y1, x2, y2)."""
    img[y1:y2, x1:x2] = colour
    return (x1, y1, x2, y2)


def disc(img, cx, cy, r, colour):
    cv2.circle(img, (cx, cy), r, colour, -1)
    return (cx - r, cy - r, cx + r + 1, cy + r + 1)


def triangle(img, x1, y1, x2, y2, colour):
    """An isosceles triangle pointing up, filling the box (x1, y1, x2, y2)."""
    points = np.array([[x1, y2 - 1], [x2 - 1, y2 - 1], [(x1 + x2 - 1) // 2, y1]], np.int32)
    cv2.fillPoly(img, [points], colour)
    return (x1, y1, x2, y2)


def found(detections):
    """{class name: sorted list of boxes}."""
    out = {}
    for i in range(len(detections)):
        out.setdefault(detections.label(i), []).append(tuple(detections.boxes[i]))
    return {k: sorted(v) for k, v in out.items()}


def test_boxes_of_drawn_shapes_are_found_within_a_pixel_or_two():
    img = canvas()
    truth = {
        "red": [rect(img, 20, 30, 80, 70, bgr(0))],
        "green": [disc(img, 160, 60, 25, bgr(60))],
        "blue": sorted(
            [triangle(img, 200, 120, 260, 180, bgr(120)), rect(img, 40, 150, 130, 200, bgr(120))]
        ),
    }
    detector = ColourDetector([RED, GREEN, BLUE])
    d = detector.detect(img)
    assert d.class_names == ["red", "green", "blue"]
    assert (d.image_width, d.image_height) == (320, 240)
    assert d.boxes.dtype == np.float32 and d.class_ids.dtype == np.int32
    got = found(d)
    assert sorted(got) == sorted(truth)
    for name, boxes in truth.items():
        assert len(got[name]) == len(boxes), name
        np.testing.assert_allclose(got[name], boxes, atol=2, err_msg=name)
    np.testing.assert_array_equal(got["red"], truth["red"])  # straight edges: exact


def test_scores_are_solidity_best_first():
    img = canvas()
    rect(img, 20, 20, 80, 80, bgr(0))  # solid: solidity 1
    rect(img, 150, 20, 230, 100, bgr(0))  # a C shape: a square with a bite taken out
    img[40:80, 180:230] = 90
    d = ColourDetector([RED]).detect(img)
    assert len(d) == 2
    assert list(d.scores) == sorted(d.scores, reverse=True)
    assert d.scores[0] == pytest.approx(1.0, abs=0.01)
    assert tuple(d.boxes[0]) == (20, 20, 80, 80)
    # C shape: 6400 px minus a 2000 px bite, over its hull (nearly the whole square)
    assert d.scores[1] == pytest.approx(4400 / 6400, abs=0.04)


def test_red_wraps_around_hue_zero():
    img = canvas()
    below = rect(img, 20, 20, 70, 70, bgr(174))  # magenta-side red
    above = rect(img, 120, 20, 170, 70, bgr(4))  # orange-side red
    rect(img, 220, 20, 270, 70, bgr(90))  # cyan: not red
    wrapped = ColourDetector([RED]).detect(img)
    assert found(wrapped) == {"red": sorted([below, above])}
    assert ColourClass(**RED).wraps
    upper_only = dict(RED, hsv_low=[0, 120, 70])  # 0..10: no wrap, one side only
    assert not ColourClass(**upper_only).wraps
    assert found(ColourDetector([upper_only]).detect(img)) == {"red": [above]}


def test_saturation_and_value_bounds_exclude_dull_and_dark_colours():
    img = canvas()
    vivid = rect(img, 20, 20, 70, 70, bgr(120))
    rect(img, 120, 20, 170, 70, bgr(120, s=60))  # greyish blue
    rect(img, 220, 20, 270, 70, bgr(120, v=40))  # dark blue
    assert found(ColourDetector([BLUE]).detect(img)) == {"blue": [vivid]}


@pytest.mark.parametrize(
    "test, keeps",
    [
        ({"circularity": [0.85, 1.0]}, "disc"),
        ({"vertices": 3}, "triangle"),
        ({"vertices": 4, "aspect": [1.0, 1.2]}, "square"),
        ({"aspect": [2.5, 5.0]}, "bar"),
    ],
)
def test_shape_tests_keep_the_right_shape_and_reject_the_others(test, keeps):
    img = canvas(400, 200)
    colour = bgr(60)
    shapes = {
        "disc": disc(img, 50, 60, 30, colour),
        "triangle": triangle(img, 110, 30, 180, 95, colour),
        "square": rect(img, 210, 30, 270, 90, colour),
        "bar": rect(img, 300, 30, 390, 60, colour),
    }
    d = ColourDetector([dict(GREEN, **test)]).detect(img)
    assert len(d) == 1, found(d)
    np.testing.assert_allclose(d.boxes[0], shapes[keeps], atol=2)


def test_area_limits():
    img = canvas()
    rect(img, 10, 10, 18, 18, bgr(0))  # 64 px
    medium = rect(img, 50, 50, 80, 80, bgr(0))  # 900 px
    rect(img, 150, 50, 300, 200, bgr(0))  # 22500 px
    d = ColourDetector([dict(RED, min_area=200, max_area=5000)]).detect(img)
    assert found(d) == {"red": [medium]}


def test_noise_and_specks_do_not_make_detections_or_move_boxes():
    rng = np.random.RandomState(7)
    img = canvas()
    truth = {
        "red": [rect(img, 30, 40, 90, 90, bgr(0))],
        "blue": [disc(img, 220, 130, 35, bgr(120))],
    }
    noisy = np.clip(img + rng.normal(0, 12, img.shape), 0, 255).astype(np.uint8)
    ys, xs = rng.randint(0, 240, 300), rng.randint(0, 320, 300)
    noisy[ys, xs] = [bgr(0), bgr(120), (255, 255, 255), (0, 0, 0)] * 75  # single-pixel specks
    d = ColourDetector([RED, BLUE]).detect(noisy)
    got = found(d)
    assert sorted(got) == ["blue", "red"]
    for name, boxes in truth.items():
        assert len(got[name]) == 1, got
        np.testing.assert_allclose(got[name], boxes, atol=2, err_msg=name)
    assert (d.scores > 0.9).all()
    # without cleanup, the specks become detections of their own
    raw = ColourDetector([dict(RED, min_area=0), dict(BLUE, min_area=0)], blur=0, morph=0)
    assert len(raw.detect(noisy)) > 10


def test_an_empty_frame_gives_empty_detections():
    d = ColourDetector([RED]).detect(canvas())
    assert len(d) == 0 and d.boxes.shape == (0, 4) and d.scores.shape == (0,)
    assert d.class_names == ["red"]


def test_masks_show_what_is_thresholded():
    img = canvas()
    rect(img, 20, 20, 40, 40, bgr(0))
    masks = ColourDetector([RED, BLUE], blur=0).masks(img)  # blur rounds corners
    assert sorted(masks) == ["blue", "red"]
    assert masks["red"].sum() == 20 * 20 * 255 and masks["blue"].sum() == 0


def test_classes_may_be_a_mapping_in_class_id_order():
    classes = parse_classes(
        {"red": {"hsv_low": [170, 0, 0], "hsv_high": [10, 255, 255]}, "blue": BLUE}
    )
    assert [c.name for c in classes] == ["red", "blue"]


@pytest.mark.parametrize(
    "classes, message",
    [
        ([], r"colour classes must be a non-empty list like \[\{name: red"),
        ("red", "colour classes must be a non-empty list"),
        ([RED, RED], "colour class names must differ; red given twice"),
        ([{"hsv_low": [0, 0, 0]}], r"colour class '\?': name and hsv_high missing"),
        ([dict(RED, colour=1)], "colour class 'red': unknown key colour; the keys are name,"),
        (
            [dict(RED, hsv_low=[200, 0, 0])],
            r"colour class 'red': hsv_low must be \[h, s, v\] with h in 0..179",
        ),
        ([dict(RED, hsv_high=[10, 255])], "colour class 'red': hsv_high must be"),
        (
            [dict(RED, hsv_low=[170, 200, 0], hsv_high=[10, 100, 255])],
            r"hsv_low's saturation \(200\) is above hsv_high's \(100\); only hue wraps around",
        ),
        ([dict(RED, min_area=-1)], "colour class 'red': min_area must be a number >= 0"),
        ([dict(RED, max_area=50)], r"max_area \(50\) is below min_area \(100\)"),
        ([dict(RED, circularity=[0.9, 1.5])], r"circularity must be \[low, high\]"),
        ([dict(RED, vertices=2)], r"vertices must be \[low, high\] .* both >= 3, not \[2, 2\]"),
        ([dict(RED, aspect=[3, 2])], r"aspect must be \[low, high\] with low <= high"),
        ([dict(RED, name="")], "a colour class needs a name"),
        (["red"], "a colour class is a mapping like"),
    ],
)
def test_bad_classes_are_refused_with_one_sentence(classes, message):
    with pytest.raises(ValueError, match=message):
        ColourDetector(classes)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"blur": 4}, r"blur must be 0 \(off\) or an odd kernel size"),
        ({"morph": -1}, r"morph must be 0 \(off\) or a kernel size"),
    ],
)
def test_bad_cleanup_settings_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ColourDetector([RED], **kwargs)
