#!/bin/sh
# Rebuild the sorter's detector (sorter.onnx + sorter.card.yaml) from the conveyor sim.
#
#   pip install -e '.[train]'          # torch (CPU build is enough) and onnx, Python >= 3.8
#   sh apps/sorter/models/train.sh [DATA_DIR]
#
# Training data: sim seeds 1..8, 500 frames each, 0.4 s apart; seeds 6..8 add distractors
# (objects of no class, never labelled) and items touching each other. Evaluation uses seeds
# from 1000 up, never these. Seeded throughout: the same torch version on the same number of
# threads (2) rebuilds the same weights.
set -e
DATA=${1:-data/sorter}
OUT=$(dirname "$0")
PYTHON=${PYTHON:-python}
for seed in 1 2 3 4 5 6 7 8; do
    faults=""
    [ "$seed" -ge 6 ] && faults="distractors=0.25,touching=0.2"
    [ -d "$DATA/seed$seed" ] || $PYTHON -m sims.conveyor.export --seed "$seed" --frames 500 \
        --every 0.4 --faults "$faults" --out "$DATA/seed$seed" --format yolo
done
# Frames with an item cut by the frame's edge are drawn 2.5 times as often as the others.
$PYTHON -m nanobot.vision.train --out "$OUT/sorter.onnx" --epochs 10 --batch 32 --imgsz 320x240 \
    --edge-weight 2.5 --seed 0 --threads 2 \
    --data "$DATA"/seed1 "$DATA"/seed2 "$DATA"/seed3 "$DATA"/seed4 \
    "$DATA"/seed5 "$DATA"/seed6 "$DATA"/seed7 "$DATA"/seed8
