"""Vision: object detectors that run one ONNX file on TensorRT, ONNX Runtime or OpenCV.

    from nanobot.vision import Detector

    detector = Detector.from_card("yolov8n.onnx")       # or a model card (YAML)
    found = detector.detect(bgr_frame)                  # nanobot.msgs.Detections

Modules, one concept each: backends (load(), the three backends), preprocess (letterbox,
normalisation, mapping boxes back), decoders (YOLOv5, YOLOv8/11, SSD output layouts),
families (which decoder and defaults a model family has), nms, labels, card (model cards),
onnxinfo (reading an ONNX file's inputs, outputs and metadata), detector, draw.
This package imports no hal: only its command line (cli) opens cameras.
"""

from .backends import Backend, BackendError, load
from .card import ModelCard
from .detector import Detector

__all__ = ["Backend", "BackendError", "Detector", "ModelCard", "load"]
