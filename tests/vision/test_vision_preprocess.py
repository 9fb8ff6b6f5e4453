"""Letterbox, plain resize, normalisation, and boxes mapped back to the frame exactly."""

import numpy as np
import pytest

pytest.importorskip("cv2")

from nanobot.vision.preprocess import SSD, YOLO, Transform, letterbox, preprocess, resize, to_tensor


@pytest.mark.parametrize("shape", [(96, 128), (77, 101), (480, 640), (640, 480), (64, 64)])
def test_letterbox_keeps_aspect_centres_and_pads_114(shape):
    image = np.zeros((*shape, 3), np.uint8)
    out, t = letterbox(image, (64, 64))
    assert out.shape == (64, 64, 3)
    h, w = shape
    gain = min(64 / h, 64 / w)
    new_w, new_h = round(w * gain), round(h * gain)
    assert (t.sx, t.sy) == (new_w / w, new_h / h)
    assert abs(t.pad_x - (64 - new_w) / 2) <= 0.5 and abs(t.pad_y - (64 - new_h) / 2) <= 0.5
    assert (out[: t.pad_y] == 114).all() and (out[t.pad_y + new_h :] == 114).all()
    assert (out[:, : t.pad_x] == 114).all() and (out[:, t.pad_x + new_w :] == 114).all()
    assert (out[t.pad_y : t.pad_y + new_h, t.pad_x : t.pad_x + new_w] == 0).all()


def test_letterbox_with_stride_pads_only_to_the_next_multiple():
    out, t = letterbox(np.zeros((200, 300, 3), np.uint8), (640, 640), stride=32)
    assert out.shape == (448, 640, 3)  # 300x200 * 2.133 = 640x427 -> 427 up to 448
    assert (t.pad_x, t.pad_y) == (0, 10)


def test_boxes_round_trip_through_letterbox_and_resize():
    rng = np.random.RandomState(1)
    xy = rng.uniform(0, 90, (50, 2))
    boxes = np.hstack([xy, xy + rng.uniform(1, 30, (50, 2))]).astype(np.float32)
    boxes = np.minimum(boxes, [127, 95, 127, 95]).astype(np.float32)
    image = np.zeros((96, 128, 3), np.uint8)
    for fit in (lambda im: letterbox(im, (64, 64)), lambda im: resize(im, (64, 48))):
        _, t = fit(image)
        np.testing.assert_allclose(t.to_image(t.to_input(boxes)), boxes, atol=1e-4)


@pytest.mark.parametrize(
    "shape, rect", [((77, 101), (13, 20, 61, 50)), ((240, 180), (30, 100, 150, 190))]
)
def test_a_drawn_rectangle_maps_back_to_its_pixels(shape, rect):
    """Find a white rectangle in the letterboxed image and map its extent back."""
    image = np.zeros((*shape, 3), np.uint8)
    x1, y1, x2, y2 = rect
    image[y1:y2, x1:x2] = 255
    out, t = letterbox(image, (128, 128))
    ys, xs = np.nonzero(out[:, :, 0] > 127)
    found = np.array([[xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]], np.float32)
    back = t.to_image(found)[0]
    np.testing.assert_allclose(back, rect, atol=1.0 / min(t.sx, t.sy))


def test_to_image_clips_to_the_frame():
    t = Transform(0.5, 0.5, 0, 8, 128, 96)
    clipped = t.to_image([[-4, 0, 70, 70]])[0]
    np.testing.assert_allclose(clipped, [0, 0, 128, 96])


def test_to_tensor_is_rgb_nchw_normalised():
    image = np.zeros((2, 3, 3), np.uint8)
    image[..., 0], image[..., 1], image[..., 2] = 10, 20, 30  # B, G, R
    x = to_tensor(image, YOLO)
    assert x.shape == (1, 3, 2, 3) and x.dtype == np.float32 and x.flags.c_contiguous
    np.testing.assert_allclose(x[0, :, 0, 0], [30 / 255, 20 / 255, 10 / 255])
    y = to_tensor(image, SSD)
    np.testing.assert_allclose(
        y[0, :, 1, 2], [(30 - 127) / 128, (20 - 127) / 128, (10 - 127) / 128]
    )
    assert image[0, 0, 0] == 10  # the frame itself is untouched


@pytest.mark.parametrize("normalization", [YOLO, SSD])
def test_to_tensor_gives_the_floats_of_converting_first(normalization):
    """Reordering while uint8 changes the speed, not a bit of the tensor."""
    image = np.random.RandomState(2).randint(0, 256, (24, 32, 3)).astype(np.uint8)
    x = image[:, :, ::-1].astype(np.float32)
    x = (x - np.float32(normalization.mean)) / np.float32(normalization.std)
    np.testing.assert_array_equal(to_tensor(image, normalization), x.transpose(2, 0, 1)[None])


def test_letterbox_of_an_image_that_fits_is_the_resize_alone():
    image = np.random.RandomState(3).randint(0, 256, (48, 64, 3)).astype(np.uint8)
    out, t = letterbox(image, (48, 64))
    assert out is image and (t.pad_x, t.pad_y, t.sx, t.sy) == (0, 0, 1.0, 1.0)
    out, t = letterbox(image, (24, 32))
    assert out.shape == (24, 32, 3) and (t.pad_x, t.pad_y) == (0, 0)


def test_preprocess_refuses_an_unknown_resize_mode():
    with pytest.raises(ValueError, match="resize mode must be 'letterbox' or 'plain', not 'crop'"):
        preprocess(np.zeros((4, 4, 3), np.uint8), (2, 2), "crop")
