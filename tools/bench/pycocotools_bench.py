"""Times pycocotools' COCOeval evaluate() + accumulate() on gt.json / dt.json written by `npx nx run bench:coco`.

Usage: python3 pycocotools_bench.py gt.json dt.json bbox|segm|keypoints
  → one JSON line {version, loadSeconds, evaluateSeconds, accumulateSeconds, peakRssMb, stats}.
Loading (COCO(), loadRes) is timed apart; a full garbage collection runs between loading and evaluate(), as the
coco-ts-api side does, so that neither side's evaluate() pays for the loader's garbage.
A yardstick for coco-ts-api's speed (pycocotools is not a dependency of the project).
"""
import contextlib
import gc
import importlib.metadata
import io
import json
import resource
import sys
import time

from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

gt_file, dt_file, iou_type = sys.argv[1:4]
with contextlib.redirect_stdout(io.StringIO()):
    tl = time.perf_counter()
    gt = COCO(gt_file)
    dt = gt.loadRes(dt_file)
    load = time.perf_counter() - tl
    E = COCOeval(gt, dt, iou_type)
    gc.collect()
    t0 = time.perf_counter()
    E.evaluate()
    t1 = time.perf_counter()
    E.accumulate()
    t2 = time.perf_counter()
    E.summarize()
print(json.dumps({"version": importlib.metadata.version("pycocotools"), "loadSeconds": load, "evaluateSeconds": t1 - t0, "accumulateSeconds": t2 - t1, "peakRssMb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "stats": [float(s) for s in E.stats]}))
