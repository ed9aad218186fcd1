"""
Writes coco-ts-api's keypoint reference cases (libs/coco-ts-api/fixtures/kp_*.json) with pycocotools itself:
generated COCO keypoint ground truth and results, and what pycocotools' COCOeval(iouType='keypoints') makes of
them, in the schema of the other reference cases (fixtures/PYCOCOTOOLS_REFERENCE.md).

A yardstick, not a dependency: run it with a Python that has pycocotools 2.0.11, e.g.
    python3 -m venv /tmp/pyco && /tmp/pyco/bin/pip install pycocotools==2.0.11
    /tmp/pyco/bin/python3 tools/bench/coco_keypoint_cases.py [--out libs/coco-ts-api/fixtures] [--seed 0]
"""
import argparse
import contextlib
import copy
import io
import json
import os

import numpy as np
import pycocotools
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

SIGMAS17 = (np.array([.26, .25, .25, .35, .35, .79, .79, .72, .72, .62, .62, 1.07, 1.07, .87, .87, .89, .89]) / 10.0)


def person(rng, ann_id, img_id, cat, k, w, h, size, visible_p=0.8):
    """A skeleton-like set of k keypoints inside a box of the given size; visibility 0/1/2."""
    bw = size * rng.uniform(0.5, 1.0)
    bh = size * rng.uniform(0.8, 1.6)
    x0 = rng.uniform(0, max(1.0, w - bw))
    y0 = rng.uniform(0, max(1.0, h - bh))
    kps = []
    n = 0
    for _ in range(k):
        v = int(rng.choice([0, 1, 2], p=[1 - visible_p, visible_p / 4, 3 * visible_p / 4]))
        if v == 0:
            kps += [0, 0, 0]
        else:
            kps += [round(float(x0 + rng.uniform(0, bw)), 2), round(float(y0 + rng.uniform(0, bh)), 2), v]
            n += 1
    area = round(float(bw * bh * rng.uniform(0.5, 0.9)), 2)
    return {"id": ann_id, "image_id": img_id, "category_id": cat, "keypoints": kps, "num_keypoints": n,
            "bbox": [round(float(x0), 2), round(float(y0), 2), round(float(bw), 2), round(float(bh), 2)],
            "area": area, "iscrowd": 0}


def detection(rng, gt, noise, score, with_bbox):
    kps = []
    for i in range(0, len(gt["keypoints"]), 3):
        x, y, v = gt["keypoints"][i:i + 3]
        if v == 0:  # a guess where the truth has nothing
            bx, by, bw, bh = gt["bbox"]
            x, y = bx + rng.uniform(0, bw), by + rng.uniform(0, bh)
        kps += [round(float(x + rng.normal(0, noise)), 2), round(float(y + rng.normal(0, noise)), 2), 1]
    d = {"image_id": gt["image_id"], "category_id": gt["category_id"], "keypoints": kps, "score": score}
    if with_bbox:
        xs, ys = kps[0::3], kps[1::3]
        d["bbox"] = [min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys)]
    return d


def spurious(rng, img_id, cat, k, w, h, score):
    return {"image_id": img_id, "category_id": cat, "score": score,
            "keypoints": sum([[round(float(rng.uniform(0, w)), 2), round(float(rng.uniform(0, h)), 2), 1] for _ in range(k)], [])}


def make_case(name, seed, k, cats, images, per_image, crowds, zeros, dets_extra, with_bbox, params):
    rng = np.random.default_rng(seed)
    gt = {"images": [], "annotations": [], "categories": [{"id": c, "name": f"cat{c}", "keypoints": [f"k{i}" for i in range(k)],
                                                          "skeleton": []} for c in cats]}
    dts = []
    for img in range(images):
        img_id = 100 + img * 7  # not 1..N
        w, h = 640, 480
        gt["images"].append({"id": img_id, "width": w, "height": h, "file_name": f"{img_id}.jpg"})
        for j in range(per_image):
            cat = int(rng.choice(cats))
            size = float(rng.choice([20, 60, 150, 300]))  # small (in 'all' only), medium, large
            a = person(rng, len(gt["annotations"]) + 1, img_id, cat, k, w, h, size)
            gt["annotations"].append(a)
            if rng.uniform() < 0.85:
                dts.append(detection(rng, a, noise=rng.choice([1, 4, 12]), score=round(float(rng.uniform(0.05, 1)), 2), with_bbox=with_bbox))
            if rng.uniform() < 0.2:  # a duplicate
                dts.append(detection(rng, a, noise=6, score=round(float(rng.uniform(0.05, 1)), 2), with_bbox=with_bbox))
        for _ in range(dets_extra):
            d = spurious(rng, img_id, int(rng.choice(cats)), k, w, h, round(float(rng.uniform(0.01, 0.6)), 2))
            if with_bbox:
                xs, ys = d["keypoints"][0::3], d["keypoints"][1::3]
                d["bbox"] = [min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys)]
            dts.append(d)
    anns = gt["annotations"]
    for i in range(min(crowds, len(anns))):  # crowd regions: ignored, absorb detections
        anns[i * 3 % len(anns)]["iscrowd"] = 1
    for i in range(min(zeros, len(anns))):
        a = anns[(i * 5 + 1) % len(anns)]
        if i % 3 == 0:  # no keypoints at all: ignored
            a["keypoints"] = [0] * (3 * k)
            a["num_keypoints"] = 0
        elif i % 3 == 1:  # num_keypoints says 0 though points are visible: still ignored
            a["num_keypoints"] = 0
        else:  # num_keypoints > 0 though no point is visible: OKS from the distance to the box (k1 == 0)
            a["keypoints"] = [0] * (3 * k)
    return gt, dts, params


def effective(p):
    return {"imgIds": list(map(int, p.imgIds)), "catIds": list(map(int, p.catIds)), "maxDets": list(map(int, p.maxDets)),
            "areaRng": [[float(a), float(b)] for a, b in p.areaRng], "iouThrs": [float(v) for v in p.iouThrs],
            "recThrs": [float(v) for v in p.recThrs]}


def mean_valid(a):
    a = a[a > -1]
    return float(np.mean(a)) if a.size else -1.0


def run(name, description, gt, dts, params, out, with_eval_imgs):
    with open(os.path.join(out, f"{name}.gt.json"), "w") as f:
        json.dump(gt, f)
    with open(os.path.join(out, f"{name}.dt.json"), "w") as f:
        json.dump(dts, f)
    with contextlib.redirect_stdout(io.StringIO()):
        G = COCO(os.path.join(out, f"{name}.gt.json"))
        D = G.loadRes(copy.deepcopy(dts))
    E = COCOeval(G, D, "keypoints")
    for k, v in params.items():
        setattr(E.params, k, np.array(v) if k == "kpt_oks_sigmas" else v)
    with contextlib.redirect_stdout(io.StringIO()):
        E.evaluate()
        E.accumulate()
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        E.summarize()
    lines = [l for l in buf.getvalue().splitlines() if l.startswith(" Average")]
    prec, rec = E.eval["precision"], E.eval["recall"]
    T, R, K, A, M = prec.shape
    per_cat = []
    for k, cat in enumerate(E.params.catIds):
        per_cat.append({"category_id": int(cat), "ap": mean_valid(prec[:, :, k, 0, -1]), "ap50": mean_valid(prec[0, :, k, 0, -1]),
                        "ap75": mean_valid(prec[5, :, k, 0, -1]), "ar": mean_valid(rec[:, k, 0, -1])})
    grid = [[[mean_valid(prec[:, :, k, a, m]) for m in range(M)] for a in range(A)] for k in range(K)]
    expected = {
        "case": name, "description": description, "iouType": "keypoints", "params": params,
        "effective_params": effective(E.params), "counts": [T, R, K, A, M],
        "stats": [float(s) for s in E.stats],
        "stats_labels": ["AP@[.50:.95] all maxDets=20", "AP@.50", "AP@.75", "AP medium", "AP large",
                         "AR@[.50:.95] all maxDets=20", "AR@.50", "AR@.75", "AR medium", "AR large"],
        "summary_lines": lines, "per_category": per_cat, "ap_by_cat_area_maxdet": grid,
        "recall": rec.tolist(), "precision_all_lastmaxdet": prec[:, :, :, 0, -1].tolist(),
        "num_gt_anns": len(gt["annotations"]), "num_dets": len(dts),
        "generated_by": f"pycocotools {pycocotools.__version__ if hasattr(pycocotools, '__version__') else '2.0.11'}, numpy {np.__version__} (tools/bench/coco_keypoint_cases.py)",
    }
    if with_eval_imgs:
        entries = []
        for e in E.evalImgs:
            if e is None:
                continue
            entries.append({"image_id": int(e["image_id"]), "category_id": int(e["category_id"]),
                            "areaRngIndex": [list(r) for r in E.params.areaRng].index(list(e["aRng"])), "maxDet": int(e["maxDet"]),
                            "dtIds": [int(i) for i in e["dtIds"]], "gtIds": [int(i) for i in e["gtIds"]],
                            "dtScores": [float(s) for s in e["dtScores"]], "gtIgnore": [int(g) for g in e["gtIgnore"]],
                            "dtMatches": e["dtMatches"].astype(int).tolist(), "gtMatches": e["gtMatches"].astype(int).tolist(),
                            "dtIgnore": e["dtIgnore"].astype(int).tolist()})
        expected["eval_imgs"] = entries
    with open(os.path.join(out, f"{name}.expected.json"), "w") as f:
        json.dump(expected, f)
    print(f"{name}: {len(gt['annotations'])} gts, {len(dts)} dets, AP {E.stats[0]:.4f}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="libs/coco-ts-api/fixtures")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    s = a.seed
    cases = [
        ("kp_basic", "17 COCO keypoints, two categories, small/medium/large people, visibility 0/1/2, duplicates and "
                     "spurious detections; results without bbox (loadRes derives area and bbox from the keypoints)",
         make_case("kp_basic", s + 1, 17, [1, 4], 8, 4, 0, 0, 2, False, {}), True),
        ("kp_crowd", "crowd regions, num_keypoints 0 (with and without visible points: ignored), num_keypoints > 0 with no "
                     "visible point (OKS from the distance to the box); results with bbox (area w·h)",
         make_case("kp_crowd", s + 2, 17, [1], 10, 5, 4, 9, 3, True, {}), True),
        ("kp_sigmas", "5 keypoints with custom kpt_oks_sigmas set through params, more than 20 detections per image "
                      "(the maxDets=20 cut)",
         make_case("kp_sigmas", s + 3, 5, [2], 3, 12, 1, 3, 14, False, {"kpt_oks_sigmas": [0.05, 0.1, 0.07, 0.2, 0.12]}), False),
        ("kp_many", "40 images, 17 keypoints, three categories: a larger case for the accumulated arrays",
         make_case("kp_many", s + 4, 17, [1, 2, 3], 40, 6, 6, 12, 4, False, {}), False),
    ]
    for name, desc, (gt, dts, params), with_eval_imgs in cases:
        run(name, desc, gt, dts, params, a.out, with_eval_imgs)


if __name__ == "__main__":
    main()
