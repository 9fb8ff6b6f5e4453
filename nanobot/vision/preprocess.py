"""From a camera frame to a model's input tensor, and from input pixels back to the frame's.

    tensor, transform = preprocess(bgr, (640, 640), resize="letterbox", normalize=YOLO)
    boxes = transform.to_image(boxes_in_input_pixels)      # x1, y1, x2, y2 in frame pixels

Letterbox keeps the aspect ratio and pads both sides equally with grey 114 (as Ultralytics
trains); plain resize stretches (as jetson-inference's SSD models expect). Every step is
recorded in a Transform, so boxes map back to the original pixels exactly.
"""

import collections

import numpy as np

from . import _cv2

__all__ = [
    "SSD",
    "YOLO",
    "Normalization",
    "Transform",
    "letterbox",
    "preprocess",
    "resize",
    "to_tensor",
]

PAD_VALUE = 114


class Normalization(collections.namedtuple("Normalization", "mean std rgb")):
    """tensor = (pixel - mean) / std per channel, channels in RGB order when `rgb`."""

    __slots__ = ()


YOLO = Normalization((0.0, 0.0, 0.0), (255.0, 255.0, 255.0), True)  # Ultralytics: x / 255
SSD = Normalization((127.0, 127.0, 127.0), (128.0, 128.0, 128.0), True)  # pytorch-ssd


class Transform(collections.namedtuple("Transform", "sx sy pad_x pad_y width height")):
    """input = image * (sx, sy) + (pad_x, pad_y); `width`, `height` are the image's size."""

    __slots__ = ()

    def to_input(self, boxes):
        """Boxes (N x 4, x1 y1 x2 y2) from image pixels to model-input pixels."""
        boxes = np.asarray(boxes, np.float32)
        scale = np.array([self.sx, self.sy, self.sx, self.sy], np.float32)
        pad = np.array([self.pad_x, self.pad_y, self.pad_x, self.pad_y], np.float32)
        return boxes * scale + pad

    def to_image(self, boxes, clip=True):
        """Boxes (N x 4, x1 y1 x2 y2) from model-input pixels back to image pixels."""
        boxes = np.asarray(boxes, np.float32)
        scale = np.array([self.sx, self.sy, self.sx, self.sy], np.float32)
        pad = np.array([self.pad_x, self.pad_y, self.pad_x, self.pad_y], np.float32)
        out = (boxes - pad) / scale
        if clip:
            np.clip(out[:, 0::2], 0, self.width, out=out[:, 0::2])
            np.clip(out[:, 1::2], 0, self.height, out=out[:, 1::2])
        return out


def letterbox(image, size, stride=None, color=PAD_VALUE):
    """`image` scaled to fit `size` (height, width) with its aspect kept, centred, padded.

    With `stride`, pad only up to the next multiple of it (for models with dynamic input
    size, as Ultralytics' ``auto=True``) instead of all the way to `size`.
    Returns (padded image, Transform); the image is `image` itself when it already fits.
    """
    h, w = image.shape[:2]
    out_h, out_w = size
    gain = min(out_h / h, out_w / w)
    new_w, new_h = round(w * gain), round(h * gain)
    if stride:
        out_w = -(-new_w // stride) * stride
        out_h = -(-new_h // stride) * stride
    left = round((out_w - new_w) / 2 - 0.1)
    top = round((out_h - new_h) / 2 - 0.1)
    transform = Transform(new_w / w, new_h / h, left, top, w, h)
    if (new_w, new_h) != (w, h):
        image = _cv2.require("letterboxing an image").resize(image, (new_w, new_h))
    if (new_w, new_h) == (out_w, out_h):  # nothing to pad: 4:3 into 4:3, say
        return image, transform
    out = np.full((out_h, out_w, *image.shape[2:]), color, dtype=image.dtype)
    out[top : top + new_h, left : left + new_w] = image
    return out, transform


def resize(image, size):
    """`image` stretched to `size` (height, width). Returns (image, Transform)."""
    h, w = image.shape[:2]
    out_h, out_w = size
    if (out_h, out_w) != (h, w):
        image = _cv2.require("resizing an image").resize(image, (out_w, out_h))
    return image, Transform(out_w / w, out_h / h, 0, 0, w, h)


def to_tensor(image, normalization):
    """A BGR HxWx3 uint8 image as a 1x3xHxW float32 tensor, normalised.

    The channels are reordered into planes while still uint8, a quarter of the bytes the
    floats take; only the contiguous planes are converted (several times faster per frame).
    """
    planes = image.transpose(2, 0, 1)
    if normalization.rgb:
        planes = planes[::-1]
    x = np.ascontiguousarray(planes).astype(np.float32)[None]
    mean = np.asarray(normalization.mean, np.float32).reshape(3, 1, 1)
    std = np.asarray(normalization.std, np.float32).reshape(3, 1, 1)
    if mean.any():
        x -= mean
    x /= std
    return x


def preprocess(image, size, resize_mode="letterbox", normalization=YOLO, stride=None):
    """A BGR frame as a model input tensor: (1x3xHxW float32, Transform)."""
    if resize_mode == "letterbox":
        fitted, transform = letterbox(image, size, stride)
    elif resize_mode == "plain":
        fitted, transform = resize(image, size)
    else:
        raise ValueError("resize mode must be 'letterbox' or 'plain', not %r" % (resize_mode,))
    return to_tensor(fitted, normalization), transform
