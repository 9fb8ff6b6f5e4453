"""Train a small detector on a YOLO-layout dataset and export it for nanobot.vision.

    python -m nanobot.vision.train --data data/train --out models/mine.onnx --epochs 20

or from Python::

    from nanobot.vision.train import train
    train("data/train", "models/mine.onnx", epochs=20)

The network (TinyDetector, in model) is a 0.56 GFLOP anchor-free detector whose ONNX output
is the YOLOv8 layout, so nanobot's standard decoder runs it on every backend; the loss (in
loss) is a compact task-aligned assignment with BCE and CIoU. Training is seeded: the same
data, arguments and torch version on the same number of threads give the same weights.

Workstation tooling: needs ``pip install 'nanobot[train]'`` (torch, onnx) and Python >= 3.8;
torch's CPU build is enough.
"""

import copy
import logging
import math
import time

__all__ = ["train"]

log = logging.getLogger("nanobot.vision.train")


def train(
    data,
    out,
    epochs=20,
    batch_size=32,
    input_size=(240, 320),
    lr=0.004,
    weight_decay=5e-4,
    width=1.0,
    seed=0,
    threads=2,
    names=None,
    edge_weight=1.0,
):
    """Train on the YOLO dataset at `data` (a path, or a list of them); write the ONNX file
    `out` and its card next to it. `edge_weight` > 1 draws frames with objects cut by the
    frame's edge that many times as often as the others (visibility from the dataset's
    boxes.csv, as sims.conveyor.export writes it).

    Returns the trained network (a TinyDetector, the weights' moving average)."""
    import numpy as np
    import torch

    from .data import Batches, load_dataset
    from .export import export_onnx, write_card
    from .loss import DetectionLoss
    from .model import TinyDetector

    torch.manual_seed(seed)
    torch.set_num_threads(threads)
    torch.use_deterministic_algorithms(True)
    torch.set_flush_denormal(True)  # tiny weights and gradients must not crawl
    if edge_weight <= 0:
        raise ValueError(
            "edge_weight must be > 0 (1 draws every frame alike), not %r" % edge_weight
        )
    images, targets, class_names, cut = load_dataset(data, input_size)
    data = data if isinstance(data, str) else ", ".join(data)
    class_names = list(names or class_names)
    num_classes = max([len(class_names)] + [int(t[1].max()) + 1 for t in targets if len(t[1])])
    if len(class_names) < num_classes:
        raise ValueError(
            "%s has labels up to class %d but names for %d classes: give every class a "
            "name in data.yaml (names:) or with --names" % (data, num_classes - 1, len(class_names))
        )
    net = TinyDetector(num_classes, input_size, width)
    ema = WeightAverage(net)
    decay, no_decay = [], []
    for p in net.parameters():
        (no_decay if p.ndim <= 1 else decay).append(p)
    optimizer = torch.optim.AdamW(
        [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0}],
        lr=lr,
    )
    weights = None if edge_weight == 1 else np.where(cut, edge_weight, 1.0)
    batches = Batches(
        images, targets, batch_size, torch.Generator().manual_seed(seed), weights=weights
    )
    if not len(batches):
        raise ValueError(
            "%s has %d images, fewer than one batch of %d" % (data, len(images), batch_size)
        )
    total = epochs * len(batches)
    warmup = min(300, total // 10)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer,
        lambda i: (
            (i + 1) / warmup
            if i < warmup
            else 0.02 + 0.98 * 0.5 * (1 + math.cos(math.pi * (i - warmup) / (total - warmup)))
        ),
    )
    criterion = DetectionLoss()
    log.info(
        "training on %d images of %s (%s; %d with objects cut by the edge, drawn %gx) for %d "
        "epochs of %d batches, input %dx%d",
        len(images), data, ", ".join(class_names), int(cut.sum()), edge_weight, epochs,
        len(batches), input_size[1], input_size[0],
    )  # fmt: skip
    description = "nanobot TinyDetector: python -m nanobot.vision.train, %d images, seed %d" % (
        len(images),
        seed,
    )
    start = time.monotonic()
    for epoch in range(epochs):
        net.train()
        sums = {}
        for x, batch_targets in batches:
            box_logits, class_logits = net(x)
            loss, parts = criterion(net, box_logits, class_logits, batch_targets)
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(net.parameters(), 10.0)
            optimizer.step()
            schedule.step()
            ema.update(net)
            for k, v in parts.items():
                sums[k] = sums.get(k, 0.0) + v
        log.info(
            "epoch %d/%d: %s (%.0f s)",
            epoch + 1, epochs,
            ", ".join("%s %.4f" % (k, v / len(batches)) for k, v in sorted(sums.items())),
            time.monotonic() - start,
        )  # fmt: skip
        # written after every epoch, so a long run can be evaluated (or used) as it goes
        export_onnx(ema.net, out, class_names, description)
        card = write_card(
            out,
            input_size,
            class_names,
            comment="TinyDetector trained with python -m nanobot.vision.train "
            "(seed %d, epoch %d of %d)" % (seed, epoch + 1, epochs),
        )
    log.info("wrote %s and %s", out, card)
    return ema.net


class WeightAverage:
    """An exponential moving average of a network's weights (and batch-norm statistics), its
    decay ramping up to `decay` over the first ~1000 updates so that it soon forgets the
    random start (as Ultralytics' ModelEMA). The average is what gets exported."""

    def __init__(self, net, decay=0.999, ramp=300):
        self.net = copy.deepcopy(net).eval()
        self.decay, self.ramp, self.updates = decay, ramp, 0

    def update(self, net):
        import torch

        self.updates += 1
        d = self.decay * (1 - math.exp(-self.updates / self.ramp))
        with torch.no_grad():
            for avg, new in zip(self.net.state_dict().values(), net.state_dict().values()):
                if avg.dtype.is_floating_point:
                    avg.mul_(d).add_(new, alpha=1 - d)
                else:
                    avg.copy_(new)
