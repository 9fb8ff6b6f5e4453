"""The detector's loss: which cells answer for which object, and how wrong they are.

Assignment (a compact form of YOLOv8's task-aligned assigner): a cell is a candidate for an
object when its centre lies inside the object's box and within `radius` cells of the box's
centre. Each candidate is scored by how well it already does the task,
``score ** alpha * IoU ** beta`` (its predicted probability of the object's class, the IoU of
its predicted box with the object's); the `topk` best candidates answer for the object. A
cell claimed by two objects keeps the one its box overlaps most.

Loss: binary cross-entropy on every cell and class, against a soft target that is the
assigned cells' normalised alignment (1 for the best-aligned cell of an object, scaled by the
best IoU reached so far) and 0 elsewhere; for assigned cells, 1 - CIoU of the predicted box
and an L1 term on the four side distances (in cells). Both are weighted by the soft target
and divided by its sum, so an image with many objects weighs no more per object.
"""

import math

import torch
import torch.nn.functional as F

__all__ = ["DetectionLoss", "box_iou", "ciou"]


def box_iou(a, b):
    """Pairwise IoU of boxes a [M, 4] and b [N, 4] (x1 y1 x2 y2): [M, N]."""
    lt = torch.max(a[:, None, :2], b[None, :, :2])
    rb = torch.min(a[:, None, 2:], b[None, :, 2:])
    inter = (rb - lt).clamp(min=0).prod(-1)
    area_a = (a[:, 2:] - a[:, :2]).prod(-1)
    area_b = (b[:, 2:] - b[:, :2]).prod(-1)
    return inter / (area_a[:, None] + area_b[None] - inter + 1e-9)


def ciou(a, b, eps=1e-7):
    """Complete IoU of matching boxes a [K, 4] and b [K, 4]: IoU minus centre distance and
    aspect-ratio penalties (Zheng et al., 2020)."""
    wa, ha = a[:, 2] - a[:, 0], a[:, 3] - a[:, 1] + eps
    wb, hb = b[:, 2] - b[:, 0], b[:, 3] - b[:, 1] + eps
    inter = (torch.min(a[:, 2:], b[:, 2:]) - torch.max(a[:, :2], b[:, :2])).clamp(min=0).prod(-1)
    iou = inter / (wa * ha + wb * hb - inter + eps)
    hull = torch.max(a[:, 2:], b[:, 2:]) - torch.min(a[:, :2], b[:, :2])
    diagonal = hull.pow(2).sum(-1) + eps
    centres = ((a[:, :2] + a[:, 2:]) - (b[:, :2] + b[:, 2:])).pow(2).sum(-1) / 4
    v = (4 / math.pi**2) * (torch.atan(wb / hb) - torch.atan(wa / ha)).pow(2)
    with torch.no_grad():
        alpha = v / (v - iou + (1 + eps))
    return iou - (centres / diagonal + v * alpha)


class DetectionLoss:
    """loss(net, box_logits, class_logits, targets) -> (total, {part: value}).

    `targets` is a list, one per image, of (boxes [M, 4] x1 y1 x2 y2 in input pixels,
    class ids [M]).
    """

    def __init__(
        self, topk=10, radius=2.5, alpha=0.5, beta=6.0, box_gain=7.5, cls_gain=1.0, l1_gain=1.0
    ):
        self.topk, self.radius, self.alpha, self.beta = topk, radius, alpha, beta
        self.box_gain, self.cls_gain, self.l1_gain = box_gain, cls_gain, l1_gain

    def __call__(self, net, box_logits, class_logits, targets):
        boxes = net.boxes(box_logits)  # [B, N, 4]
        scores = class_logits.detach().sigmoid().transpose(1, 2)  # [B, N, nc]
        cls_target = torch.zeros_like(class_logits).transpose(1, 2)  # [B, N, nc]
        box_terms, l1_terms = [], []
        stride = float(net.anchors[1, 0] - net.anchors[0, 0])
        for i, (gt_boxes, gt_ids) in enumerate(targets):
            if not len(gt_boxes):
                continue
            cell, owner, weight = self.assign(
                net.anchors, boxes[i].detach(), scores[i], gt_boxes, gt_ids, stride
            )
            cls_target[i, cell, gt_ids[owner]] = weight
            matched = gt_boxes[owner]
            box_terms.append((1 - ciou(boxes[i, cell], matched)) * weight)
            anchors = net.anchors[cell]
            sides = torch.cat([anchors - matched[:, :2], matched[:, 2:] - anchors], 1)
            predicted = net.distances(box_logits[i, :, cell]).t()
            l1_terms.append((predicted - sides).abs().sum(1) / stride * weight)
        norm = cls_target.sum().clamp(min=1.0)
        cls = (
            F.binary_cross_entropy_with_logits(
                class_logits.transpose(1, 2), cls_target, reduction="sum"
            )
            / norm
        )
        if box_terms:
            box = torch.cat(box_terms).sum() / norm
            l1 = torch.cat(l1_terms).sum() / norm
        else:
            box = l1 = class_logits.sum() * 0
        total = self.cls_gain * cls + self.box_gain * box + self.l1_gain * l1
        return total, {"cls": cls.item(), "box": box.item(), "l1": l1.item()}

    @torch.no_grad()
    def assign(self, anchors, boxes, scores, gt_boxes, gt_ids, stride):
        """For one image: (cells [K], their objects [K], soft targets [K]) of the cells that
        answer for an object."""
        centres = (gt_boxes[:, :2] + gt_boxes[:, 2:]) / 2  # [M, 2]
        inside = (anchors[None] > gt_boxes[:, None, :2]).all(-1) & (
            anchors[None] < gt_boxes[:, None, 2:]
        ).all(-1)  # [M, N]
        near = ((anchors[None] - centres[:, None]).abs() < self.radius * stride).all(-1)
        candidate = inside & near
        # objects smaller than a cell contain no cell centre: give them the nearest cell
        nearest = (anchors[None] - centres[:, None]).pow(2).sum(-1).argmin(1)
        candidate[torch.arange(len(gt_boxes)), nearest] = True
        iou = box_iou(gt_boxes, boxes)  # [M, N]
        align = scores[:, gt_ids].t().pow(self.alpha) * iou.pow(self.beta)  # [M, N]
        align = torch.where(candidate, align + 1e-9, torch.zeros_like(align))
        k = min(self.topk, align.shape[1])
        top = align.topk(k, dim=1).indices
        chosen = torch.zeros_like(candidate)
        chosen.scatter_(1, top, True)
        chosen &= candidate
        # a cell claimed by several objects stays with the one it overlaps most
        overlap = torch.where(chosen, iou, torch.full_like(iou, -1.0))
        owner = overlap.argmax(0)  # [N]
        cells = chosen.any(0).nonzero().squeeze(1)
        owner = owner[cells]
        align = align[owner, cells]
        # normalise per object: its best-aligned cell gets the best IoU any of its cells has
        best_align = torch.zeros(len(gt_boxes)).scatter_reduce_(0, owner, align, "amax")
        best_iou = torch.zeros(len(gt_boxes)).scatter_reduce_(0, owner, iou[owner, cells], "amax")
        weight = align / (best_align[owner] + 1e-9) * best_iou[owner]
        return cells, owner, weight
