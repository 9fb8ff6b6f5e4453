"""Training batches: a YOLO dataset letterboxed once into memory, augmented per batch.

Augmentations keep what a fixed camera keeps (scale, viewpoint) and vary what it varies:
horizontal and vertical flips, brightness and contrast, and a random order of the colour
channels (colour is no cue to the class: the sim paints items of every class in any colour).

Frames can be drawn with weights (`edge_weight` in train): items cut by the frame's edge are
the hardest to find and to name, and a third as common as whole ones in a conveyor's frames.
"""

import numpy as np
import torch

from ..datasets import YoloDataset
from ..preprocess import letterbox

__all__ = ["Batches", "load_dataset"]

CUT = 0.999  #: visibility below which an object is cut by the frame's edge


def load_dataset(roots, input_size):
    """The YOLO datasets at `roots` (one path or several) letterboxed to `input_size`:
    (images uint8 [K, H, W, 3] RGB, targets [(boxes [M, 4] input pixels, ids [M])], names,
    cut bool [K]: the frame holds an object partly outside it, by the dataset's visibility)."""
    datasets = [YoloDataset(root) for root in ([roots] if isinstance(roots, str) else roots)]
    names = [d.class_names for d in datasets if d.class_names]
    if any(n != names[0] for n in names):
        raise ValueError(
            "the datasets name their classes differently (%s): give them one data.yaml"
            % "; ".join(", ".join(n) for n in names)
        )
    count = sum(len(d) for d in datasets)
    if not count:
        raise ValueError("%s hold no images (images/*.jpg or *.png)" % ", ".join(roots))
    images = np.empty((count, input_size[0], input_size[1], 3), np.uint8)
    targets, cut = [], np.zeros(count, bool)
    for sample in (s for d in datasets for s in d):
        fitted, transform = letterbox(sample.image, input_size)
        cut[len(targets)] = bool((sample.visibility < CUT).any())
        images[len(targets)] = fitted[:, :, ::-1]
        boxes = transform.to_input(sample.boxes) if len(sample.boxes) else sample.boxes
        targets.append((torch.from_numpy(boxes), torch.from_numpy(sample.class_ids)))
    return images, targets, names[0] if names else [], cut


class Batches:
    """Shuffled, augmented batches of (images float [B, 3, H, W] in 0..1, targets), one epoch
    (as many images as there are) per iteration; `generator` (a seeded torch.Generator) makes
    every choice. Without `weights` an epoch shows every image once; with them (one per image)
    it draws images with replacement, each in proportion to its weight."""

    def __init__(self, images, targets, batch_size, generator, augment=True, weights=None):
        self.images, self.targets = images, targets
        self.batch_size, self.generator, self.augment = batch_size, generator, augment
        self.weights = None if weights is None else torch.as_tensor(weights, dtype=torch.float64)
        if self.weights is not None and (
            self.weights.shape != (len(images),) or not (self.weights >= 0).all()
        ):
            raise ValueError("weights: give one weight >= 0 per image (%d)" % len(images))

    def __len__(self):
        return len(self.images) // self.batch_size

    def __iter__(self):
        n, g = len(self.images), self.generator
        if self.weights is None:
            order = torch.randperm(n, generator=g)
        else:
            order = torch.multinomial(self.weights, n, replacement=True, generator=g)
        for start in range(0, len(self) * self.batch_size, self.batch_size):
            pick = order[start : start + self.batch_size].numpy()
            images, targets = self.images[pick], [self.targets[i] for i in pick]
            if self.augment:
                targets = self._flip_and_shuffle(images, targets)
            x = torch.from_numpy(images.transpose(0, 3, 1, 2).copy()).float().div_(255)
            if self.augment:
                b = len(x)
                gain = 0.75 + 0.5 * torch.rand(b, 1, 1, 1, generator=self.generator)
                shift = 0.1 * (torch.rand(b, 1, 1, 1, generator=self.generator) - 0.5)
                x = x.sub_(0.5).mul_(gain).add_(0.5 + shift).clamp_(0, 1)
            yield x, targets

    def _flip_and_shuffle(self, images, targets):
        """Flip and reorder the channels of `images` in place; returns the moved targets."""
        g, (_, h, w, _) = self.generator, images.shape
        moved = []
        for i, (boxes, ids) in enumerate(targets):
            fx, fy = (torch.rand(2, generator=g) < 0.5).tolist()
            channels = torch.randperm(3, generator=g).numpy()
            images[i] = images[i, :: -1 if fy else 1, :: -1 if fx else 1][:, :, channels]
            boxes = boxes.clone()
            if fx:
                boxes[:, [0, 2]] = w - boxes[:, [2, 0]]
            if fy:
                boxes[:, [1, 3]] = h - boxes[:, [3, 1]]
            moved.append((boxes, ids))
        return moved
