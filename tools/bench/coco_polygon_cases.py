"""Writes polygon rasterisation cases made by pycocotools 2.0.11 itself: random polygons (seeded) → frPyObjects →
merge, with their compressed counts, area and toBbox. coco-ts-api's `polygonRuns` / `frPoly` / `annToRuns` and its
RLE string reader must give exactly these (libs/coco-ts-api/src/polygons.spec.ts).

Usage: /tmp/pyco/bin/python3 tools/bench/coco_polygon_cases.py --out libs/coco-ts-api/fixtures
"""
import argparse
import importlib.metadata
import json
import math
import os

import numpy as np
from pycocotools import mask as mu


def polygon(rng, h, w):
    """One polygon of a random kind: star / convex / jagged, partly outside the image now and then."""
    kind = rng.integers(0, 4)
    n = int(rng.integers(3, 24))
    cx, cy = rng.uniform(-0.2 * w, 1.2 * w), rng.uniform(-0.2 * h, 1.2 * h)
    r = rng.uniform(0.5, 0.8 * max(h, w))
    if kind == 0:  # star-shaped, sorted angles
        ang = np.sort(rng.uniform(0, 2 * math.pi, n))
        rad = r * rng.uniform(0.2, 1.0, n)
    elif kind == 1:  # regular-ish convex
        ang = np.linspace(0, 2 * math.pi, n, endpoint=False) + rng.uniform(0, 1)
        rad = np.full(n, r)
    elif kind == 2:  # self-intersecting: unsorted angles
        ang = rng.uniform(0, 2 * math.pi, n)
        rad = r * rng.uniform(0.1, 1.0, n)
    else:  # an octagon inscribed in a box, as bench:coco's segm set
        bw, bh = rng.uniform(1, w), rng.uniform(1, h)
        x, y = rng.uniform(0, w - bw + 1), rng.uniform(0, h - bh + 1)
        t = 0.29
        pts = [x + t * bw, y, x + (1 - t) * bw, y, x + bw, y + t * bh, x + bw, y + (1 - t) * bh,
               x + (1 - t) * bw, y + bh, x + t * bw, y + bh, x, y + (1 - t) * bh, x, y + t * bh]
        return [round(float(v), 2) for v in pts]
    xs = cx + rad * np.cos(ang)
    ys = cy + rad * np.sin(ang)
    digits = int(rng.integers(0, 4))
    return [round(float(v), digits) for pair in zip(xs, ys) for v in pair]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--n", type=int, default=400)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    cases = []
    for i in range(args.n):
        if i % 50 == 49:
            h, w = 480, 640
        else:
            h, w = int(rng.integers(1, 96)), int(rng.integers(1, 96))
        parts = [polygon(rng, h, w) for _ in range(1 if rng.uniform() < 0.7 else int(rng.integers(2, 4)))]
        rles = mu.frPyObjects(parts, h, w)
        merged = mu.merge(rles)
        cases.append({
            "h": h, "w": w, "polygons": parts,
            "per_part": [r["counts"].decode("ascii") for r in rles],
            "merged": merged["counts"].decode("ascii"),
            "area": int(mu.area(merged)),
            "toBbox": [float(v) for v in mu.toBbox(merged)],
        })
    out = {"generated_by": f"pycocotools {importlib.metadata.version('pycocotools')}, tools/bench/coco_polygon_cases.py --seed {args.seed} --n {args.n}", "cases": cases}
    path = os.path.join(args.out, "polygons_random.json")
    with open(path, "w") as f:
        json.dump(out, f, separators=(",", ":"))
    print(f"{path}: {len(cases)} cases")


if __name__ == "__main__":
    main()
