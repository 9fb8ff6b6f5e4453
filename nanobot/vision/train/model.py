"""A small anchor-free detector whose exported output is the YOLOv8 layout.

    net = TinyDetector(num_classes=4, input_size=(240, 320))
    raw = net(images)            # training: (box logits [B, 4, N], class logits [B, nc, N])
    net.export_mode = True
    out = net(images)            # export: [B, 4 + nc, N]: cx, cy, w, h (input pixels), scores

One prediction per cell of a stride-8 grid. The features there see the stride-16 level too
(upsampled and concatenated, a two-level FPN), so an object up to about a third of the input
wide is seen whole from its centre cell. A cell predicts its distances to the box's four
sides as fractions of `max_distance` (half the input's longer side) through a sigmoid, and
one independent probability per class (no objectness), as YOLOv8 does.

Only convolutions, ReLU, nearest upsampling, concatenation and element-wise arithmetic:
every backend (TensorRT 8.0+, ONNX Runtime, OpenCV DNN 4.5+) runs it.
"""

import math

import torch
from torch import nn

__all__ = ["STRIDE", "TinyDetector", "anchor_points"]

STRIDE = 8  #: the prediction grid's stride, input pixels per cell
LEVELS = 16  #: the deepest feature level's stride; input sizes are multiples of it


def conv(c_in, c_out, k=3, s=1):
    """Convolution + batch norm + ReLU (the norm folds into the convolution on export)."""
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, k, s, k // 2, bias=False),
        nn.BatchNorm2d(c_out),
        nn.ReLU(inplace=True),
    )


def anchor_points(input_size, stride=STRIDE):
    """The centres of the grid's cells in input pixels: [N, 2] (x, y), row by row."""
    h, w = input_size[0] // stride, input_size[1] // stride
    ys, xs = torch.meshgrid(torch.arange(h), torch.arange(w), indexing="ij")
    return (torch.stack([xs, ys], -1).reshape(-1, 2).float() + 0.5) * stride


class TinyDetector(nn.Module):
    """The network; `width` scales every layer's channels."""

    def __init__(self, num_classes, input_size=(240, 320), width=1.0):
        super().__init__()
        if input_size[0] % LEVELS or input_size[1] % LEVELS:
            raise ValueError(
                "input size %dx%d (height x width) must be multiples of %d"
                % (input_size[0], input_size[1], LEVELS)
            )
        c1, c2, c3, c4, c5 = (max(8, round(c * width)) for c in (16, 32, 48, 96, 64))
        self.num_classes = num_classes
        self.input_size = tuple(input_size)
        self.max_distance = max(input_size) / 2.0
        self.backbone2 = nn.Sequential(conv(3, c1, s=2), conv(c1, c2, s=2), conv(c2, c2))
        self.backbone8 = nn.Sequential(conv(c2, c3, s=2), conv(c3, c3))
        self.backbone16 = nn.Sequential(conv(c3, c4, s=2), conv(c4, c4), conv(c4, c4))
        self.up = nn.Upsample(scale_factor=2.0, mode="nearest")
        self.neck = nn.Sequential(conv(c3 + c4, c5, k=1), conv(c5, c5), conv(c5, c5))
        self.box = nn.Conv2d(c5, 4, 1)
        self.cls = nn.Conv2d(c5, num_classes, 1)
        self.register_buffer("anchors", anchor_points(input_size), persistent=False)
        self.export_mode = False
        self._init_biases()

    def _init_biases(self):
        # start with boxes two cells wide and every class at 1 % (the focal-loss prior)
        nn.init.constant_(self.box.bias, math.log(2 * STRIDE / (self.max_distance - 2 * STRIDE)))
        nn.init.constant_(self.cls.bias, -math.log(99.0))

    def forward(self, x):
        p8 = self.backbone8(self.backbone2(x))
        p16 = self.backbone16(p8)
        f = self.neck(torch.cat([p8, self.up(p16)], 1))
        box = self.box(f).flatten(2)  # [B, 4, N]
        cls = self.cls(f).flatten(2)  # [B, nc, N]
        if not self.export_mode:
            return box, cls
        return torch.cat([self.decode(box), torch.sigmoid(cls)], 1)

    def distances(self, box_logits):
        """Distances (left, top, right, bottom) in input pixels from box logits [B, 4, N]."""
        return torch.sigmoid(box_logits) * self.max_distance

    def decode(self, box_logits):
        """Boxes as (cx, cy, w, h) in input pixels, [B, 4, N], from box logits."""
        d = self.distances(box_logits)
        lt, rb = d[:, :2], d[:, 2:]
        centre = self.anchors.t()[None] + (rb - lt) / 2
        return torch.cat([centre, lt + rb], 1)

    def boxes(self, box_logits):
        """Boxes as (x1, y1, x2, y2) in input pixels, [B, N, 4], from box logits."""
        d = self.distances(box_logits).transpose(1, 2)
        a = self.anchors[None]
        return torch.cat([a - d[..., :2], a + d[..., 2:]], -1)
