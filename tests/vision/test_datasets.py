"""YOLO-layout datasets: label lines to pixel boxes, visibility from boxes.csv, class names."""

import numpy as np
import pytest

from nanobot.vision.datasets import YoloDataset, read_yolo_labels

cv2 = pytest.importorskip("cv2")


def write_dataset(root, labels, csv=None, names="names:\n  0: nut\n  1: bolt\n"):
    (root / "images").mkdir(parents=True)
    (root / "labels").mkdir()
    for name, text in labels.items():
        cv2.imwrite(str(root / "images" / (name + ".png")), np.zeros((40, 80, 3), np.uint8))
        if text is not None:
            (root / "labels" / (name + ".txt")).write_text(text)
    if csv:
        (root / "boxes.csv").write_text(csv)
    if names:
        (root / "data.yaml").write_text(names)


def test_label_lines_become_pixel_boxes(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text("1 0.5 0.5 0.25 0.5\n\n0 0.125 0.25 0.25 0.5\n")
    boxes, ids = read_yolo_labels(str(path), 80, 40)
    assert ids.tolist() == [1, 0]
    assert boxes.tolist() == [[30, 10, 50, 30], [0, 0, 20, 20]]


def test_malformed_line_names_file_and_line(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text("0 0.5 0.5 0.2 0.2\n0 0.5 0.5\n")
    with pytest.raises(ValueError, match=r"a\.txt line 2: a label line is `class cx cy w h`"):
        read_yolo_labels(str(path), 80, 40)


def test_dataset_reads_images_labels_names_and_visibility(tmp_path):
    csv = (
        "image,item_id,class,x0,y0,x1,y1,visibility\n"
        "000.png,3,bolt,30,10,50,30,0.5000\n"
        "000.png,4,nut,0,0,20,20,1.0000\n"
    )
    write_dataset(
        tmp_path,
        {"000": "1 0.5 0.5 0.25 0.5\n0 0.125 0.25 0.25 0.5\n", "001": None},
        csv,
    )
    data = YoloDataset(str(tmp_path))
    assert len(data) == 2 and data.class_names == ["nut", "bolt"]
    first, second = data
    assert first.name == "000.png" and first.image.shape == (40, 80, 3)
    assert first.class_ids.tolist() == [1, 0]
    assert first.visibility.tolist() == [0.5, 1.0]
    # an image without a label file has no objects; unknown visibility counts as full
    assert second.boxes.shape == (0, 4) and second.class_ids.shape == (0,)


def test_visibility_defaults_to_full_without_boxes_csv(tmp_path):
    write_dataset(tmp_path, {"000": "0 0.5 0.5 0.2 0.2\n"}, names=None)
    sample = YoloDataset(str(tmp_path))[0]
    assert sample.visibility.tolist() == [1.0]
    assert YoloDataset(str(tmp_path)).class_names == []


def test_folder_without_images_is_refused(tmp_path):
    with pytest.raises(OSError, match="not a YOLO dataset: it needs images/"):
        YoloDataset(str(tmp_path))
