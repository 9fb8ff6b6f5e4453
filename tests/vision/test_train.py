"""Training code on tiny synthetic data: the network's layout, the assignment, a few steps,
and a whole run from a YOLO folder to an ONNX file that nanobot's Detector runs.

Needs torch (the `train` extra, not installed in CI's default venvs): skipped without it.
"""

import os

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="training needs torch: pip install 'nanobot[train]'")

from nanobot.vision.train.loss import DetectionLoss, box_iou, ciou  # noqa: E402
from nanobot.vision.train.model import TinyDetector  # noqa: E402

SIZE = (32, 48)  # height, width: a 4 x 6 grid of stride-8 cells


@pytest.fixture(autouse=True)
def _seeded():
    torch.manual_seed(0)


def test_export_output_is_the_yolov8_layout():
    net = TinyDetector(3, SIZE, width=0.5).eval()
    net.export_mode = True
    out = net(torch.zeros(1, 3, *SIZE))
    assert out.shape == (1, 4 + 3, 4 * 6)
    assert float(out[:, 4:].min()) >= 0 and float(out[:, 4:].max()) <= 1  # probabilities


def test_decode_and_boxes_agree():
    net = TinyDetector(2, SIZE, width=0.5)
    logits = torch.randn(2, 4, 24)
    cx, cy, w, h = net.decode(logits).unbind(1)
    x1, y1, x2, y2 = net.boxes(logits).unbind(-1)
    torch.testing.assert_close(torch.stack([x1, y1, x2, y2]), torch.stack(
        [cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2]))  # fmt: skip
    # the first cell's centre is (4, 4); equal distances put the box centre there
    centred = net.decode(torch.zeros(1, 4, 24))
    assert centred[0, :2, 0].tolist() == [4.0, 4.0]


def test_input_size_must_fit_the_strides():
    with pytest.raises(ValueError, match="multiples of 16"):
        TinyDetector(2, (30, 48))


def test_iou_and_ciou_of_known_boxes():
    a = torch.tensor([[0.0, 0, 10, 10]])
    b = torch.tensor([[0.0, 0, 10, 10], [5.0, 0, 15, 10]])
    torch.testing.assert_close(box_iou(a, b), torch.tensor([[1.0, 1 / 3]]))
    assert float(ciou(a, a[:1])) == pytest.approx(1.0, abs=1e-5)
    # same size, shifted by half: IoU 1/3 minus (5^2 / 15^2 + 0^2 / ...) = 1/3 - 25/325
    assert float(ciou(a, b[1:])) == pytest.approx(1 / 3 - 25 / 325, abs=1e-5)


def test_assignment_picks_cells_inside_the_object_with_its_class():
    net = TinyDetector(3, SIZE, width=0.5)
    gt = torch.tensor([[8.0, 8.0, 32.0, 24.0]])  # covers cell centres x 12, 20, 28; y 12, 20
    scores = torch.full((24, 3), 0.5)
    boxes = torch.cat([net.anchors - 8, net.anchors + 8], 1)
    cells, owner, weight = DetectionLoss(topk=4).assign(
        net.anchors, boxes, scores, gt, torch.tensor([2]), stride=8.0
    )
    centres = net.anchors[cells]
    assert len(cells) == 4 and owner.tolist() == [0, 0, 0, 0]
    assert ((centres > gt[0, :2]) & (centres < gt[0, 2:])).all()
    assert float(weight.max()) == pytest.approx(float(box_iou(gt, boxes[cells]).max()))


def test_a_few_steps_on_one_batch_lower_the_loss():
    net = TinyDetector(2, SIZE, width=0.5)
    x = torch.rand(2, 3, *SIZE)
    targets = [
        (torch.tensor([[4.0, 4.0, 28.0, 20.0]]), torch.tensor([1])),
        (torch.tensor([[16.0, 8.0, 40.0, 30.0], [0.0, 20.0, 10.0, 32.0]]), torch.tensor([0, 1])),
    ]
    criterion = DetectionLoss()
    optimizer = torch.optim.Adam(net.parameters(), 0.01)
    losses = []
    for _ in range(8):
        loss, parts = criterion(net, *net(x), targets)
        assert set(parts) == {"cls", "box", "l1"} and torch.isfinite(loss)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(float(loss))
    assert losses[-1] < 0.7 * losses[0]


@pytest.fixture
def folder(tmp_path):
    """A YOLO folder of four 64x48 frames, each with a square and a disc."""
    cv2 = pytest.importorskip("cv2")
    root = tmp_path / "data"
    (root / "images").mkdir(parents=True)
    (root / "labels").mkdir()
    (root / "data.yaml").write_text("names:\n  0: square\n  1: disc\n")
    for i in range(4):
        image = np.full((48, 64, 3), 40, np.uint8)
        cv2.rectangle(image, (8, 8), (24, 24), (0, 200, 200), -1)
        cv2.circle(image, (44, 30), 9, (200, 200, 0), -1)
        cv2.imwrite(str(root / "images" / ("%d.png" % i)), image)
        (root / "labels" / ("%d.txt" % i)).write_text(
            "0 0.25 0.333 0.266 0.354\n1 0.6875 0.625 0.297 0.396\n"
        )
    return str(root)


def test_train_writes_an_onnx_file_and_card_the_detector_runs(folder, tmp_path):
    pytest.importorskip("onnx", reason="ONNX export needs the onnx package (the train extra)")
    from nanobot.vision import Detector
    from nanobot.vision.card import ModelCard
    from nanobot.vision.train import train

    out = str(tmp_path / "model" / "tiny.onnx")
    train(folder, out, epochs=1, batch_size=2, input_size=SIZE, width=0.5)
    card = ModelCard.load(str(tmp_path / "model" / "tiny.card.yaml"))
    assert os.path.samefile(card.model, out)
    assert (card.family.name, card.input_size, card.labels) == ("yolov8", SIZE, ["square", "disc"])
    image = np.full((48, 64, 3), 40, np.uint8)
    with Detector.from_card(card.path, backend="opencv", conf=0.0) as detector:
        found = detector.detect(image)
    assert detector.class_names == ["square", "disc"]
    assert len(found) >= 1 and found.image_width == 64


def test_training_is_reproducible(folder, tmp_path):
    pytest.importorskip("onnx", reason="ONNX export needs the onnx package (the train extra)")
    from nanobot.vision.train import train

    runs = [str(tmp_path / name / "m.onnx") for name in ("a", "b")]
    nets = [train(folder, out, epochs=2, batch_size=2, input_size=SIZE, width=0.5) for out in runs]
    for p, q in zip(nets[0].state_dict().values(), nets[1].state_dict().values()):
        assert torch.equal(p, q)
    with open(runs[0], "rb") as a, open(runs[1], "rb") as b:
        assert a.read() == b.read()
    other = train(folder, str(tmp_path / "c.onnx"), epochs=2, batch_size=2, input_size=SIZE,
                  width=0.5, seed=1)  # fmt: skip
    assert not torch.equal(other.box.weight, nets[0].box.weight)


def test_frames_with_objects_cut_by_the_edge_can_be_drawn_more_often(folder):
    from nanobot.vision.train.data import Batches, load_dataset

    with open(os.path.join(folder, "boxes.csv"), "w") as f:  # as sims.conveyor.export writes
        f.write("image,item_id,class,x0,y0,x1,y1,visibility\n")
        for i in range(4):
            for k, vis in enumerate((1.0, 0.4 if i == 2 else 1.0)):
                f.write("%d.png,%d,c,0,0,1,1,%.4f\n" % (i, k, vis))
    images, targets, _, cut = load_dataset(folder, SIZE)
    assert cut.tolist() == [False, False, True, False]
    for n in range(4):
        images[n] = n  # each image tells which it is
    only_cut = Batches(images, targets, 2, torch.Generator().manual_seed(0), augment=False,
                       weights=cut.astype(float))  # fmt: skip
    drawn = [
        int(x[i, 0, 0, 0] * 255 + 0.5) for _ in range(5) for x, _ in only_cut for i in range(2)
    ]
    assert drawn == [2] * 20  # an epoch is still 4 draws
    every = Batches(images, targets, 2, torch.Generator().manual_seed(0), augment=False)
    assert sorted(int(x[i, 0, 0, 0] * 255 + 0.5) for x, _ in every for i in range(2)) == [
        0,
        1,
        2,
        3,
    ]
    with pytest.raises(ValueError, match="one weight >= 0 per image"):
        Batches(images, targets, 2, torch.Generator(), weights=[1.0, 2.0])
