"""
Small ONNX detectors in Ultralytics' export layouts, exported from PyTorch modules whose outputs are planted, for
detect:predict / detect:val --runtime onnx (libs/tasks/detect/src/ultralytics.spec.ts):

- yolov8/model.onnx: input "images" [B, 3, 320, 320], output "output0" [B, 4 + 2, 2100] (centre x, centre y, w, h in
  input pixels, then class scores), before NMS: each planted box plus a shifted duplicate that NMS must remove;
- e2e/model.onnx: output [B, 300, 6] (x1, y1, x2, y2, score, class), after NMS;
- nonames/model.onnx: the yolov8 layout without `names` in its metadata (--classes names them).

metadata_props as Ultralytics writes them (task, names as a Python dict's repr, imgsz, stride), appended to the
serialized ModelProto (field 14) without the onnx package. Also a 640×480 and a 400×520 image and annotations.json
whose boxes are the planted ones mapped back through the letterbox (so mAP is 1 when the boxes come back right).

  /usr/bin/python3 tools/bench/ultralytics_onnx_fixtures.py --out libs/tasks/detect/fixtures/ultralytics
"""
import argparse
import json
import os

import numpy as np
import torch
from PIL import Image
from torch import nn

IMGSZ = 320
NAMES = ["ring", "blob"]
# Planted detections per image index, in model-input pixels: (x1, y1, x2, y2, score, class).
IMAGES = [("wide.png", 640, 480), ("tall.png", 400, 520)]
PLANTED = {
    0: [(40.0, 60.0, 120.0, 140.0, 0.92, 0), (200.0, 100.0, 280.0, 200.0, 0.81, 1), (150.0, 220.0, 190.0, 250.0, 0.66, 0)],
    1: [(100.0, 30.0, 180.0, 110.0, 0.88, 1), (120.0, 180.0, 220.0, 300.0, 0.74, 0)],
}


def anchors():
    return sum((IMGSZ // s) ** 2 for s in (8, 16, 32))


class PlantedV8(nn.Module):
    """[B, 4 + nc, A]: the planted boxes of the image (told apart by brightness), every other anchor a low score."""

    def __init__(self):
        super().__init__()
        a = anchors()
        out = torch.zeros(2, 4 + len(NAMES), a)
        out[:, 0:2, :] = IMGSZ / 2
        out[:, 2:4, :] = 8.0
        out[:, 4:, :] = 0.002
        for b, dets in PLANTED.items():
            for k, (x1, y1, x2, y2, s, c) in enumerate(dets):
                j = 37 + 311 * k
                out[b, :4, j] = torch.tensor([(x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1])
                out[b, 4 + c, j] = s
                # A duplicate 3 px off with a lower score: class-aware NMS at IoU 0.7 removes it.
                out[b, :4, j + 1] = torch.tensor([(x1 + x2) / 2 + 3, (y1 + y2) / 2, x2 - x1, y2 - y1])
                out[b, 4 + c, j + 1] = s - 0.2
        self.register_buffer("planted", out)

    def forward(self, images):
        # Which image this is, from its content: the dark one (wide.png) or the bright one (tall.png), whatever the batch order.
        idx = (images.mean(dim=(1, 2, 3)) > 114 / 255).long()
        return self.planted[idx]


class PlantedE2E(nn.Module):
    def __init__(self):
        super().__init__()
        out = torch.zeros(2, 300, 6)
        for b, dets in PLANTED.items():
            for k, d in enumerate(sorted(dets, key=lambda d: -d[4])):
                out[b, k] = torch.tensor(d)
        self.register_buffer("planted", out)

    def forward(self, images):
        # Which image this is, from its content: the dark one (wide.png) or the bright one (tall.png), whatever the batch order.
        idx = (images.mean(dim=(1, 2, 3)) > 114 / 255).long()
        return self.planted[idx]


def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def field(num, payload):
    return varint((num << 3) | 2) + varint(len(payload)) + payload


def export(module, path, meta):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    x = torch.rand(1, 3, IMGSZ, IMGSZ)
    torch.onnx.export(module.eval(), x, path, opset_version=13, input_names=["images"], output_names=["output0"],
                      dynamic_axes={"images": {0: "batch"}, "output0": {0: "batch"}})
    props = b"".join(field(14, field(1, k.encode()) + field(2, v.encode())) for k, v in meta.items())
    with open(path, "ab") as f:
        f.write(props)


def letterbox(w, h):
    r = min(IMGSZ / w, IMGSZ / h)
    nw, nh = round(w * r), round(h * r)
    return r, (IMGSZ - nw) // 2, (IMGSZ - nh) // 2


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--out", required=True)
    out = p.parse_args().out
    names = "{" + ", ".join(f"{i}: '{n}'" for i, n in enumerate(NAMES)) + "}"
    base = {"description": "Ultralytics-layout planted detector", "author": "test", "task": "detect", "stride": "32", "batch": "1",
            "imgsz": f"[{IMGSZ}, {IMGSZ}]"}
    export(PlantedV8(), os.path.join(out, "yolov8", "model.onnx"), {**base, "names": names})
    export(PlantedE2E(), os.path.join(out, "e2e", "model.onnx"), {**base, "names": names, "end2end": "True"})
    export(PlantedV8(), os.path.join(out, "nonames", "model.onnx"), base)
    os.makedirs(os.path.join(out, "images"), exist_ok=True)
    coco = {"images": [], "annotations": [], "categories": [{"id": 10 + i, "name": n} for i, n in enumerate(NAMES)]}
    for i, (name, w, h) in enumerate(IMAGES):
        yy, xx = np.mgrid[0:h, 0:w]
        img = np.stack([xx * 255 // w, yy * 255 // h, (xx + yy) % 256], -1) * 0.3 + (0 if i == 0 else 180)
        img = img.astype(np.uint8)
        Image.fromarray(img, "RGB").save(os.path.join(out, "images", name))
        coco["images"].append({"id": i + 1, "file_name": name, "width": w, "height": h})
        r, px, py = letterbox(w, h)
        for x1, y1, x2, y2, _s, c in PLANTED[i]:
            bx, by = (x1 - px) / r, (y1 - py) / r
            bw, bh = (x2 - x1) / r, (y2 - y1) / r
            coco["annotations"].append({"id": len(coco["annotations"]) + 1, "image_id": i + 1, "category_id": 10 + c,
                                        "bbox": [bx, by, bw, bh], "area": bw * bh, "iscrowd": 0})
    with open(os.path.join(out, "annotations.json"), "w") as f:
        json.dump(coco, f, indent=1)


if __name__ == "__main__":
    main()
