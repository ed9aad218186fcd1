"""PyTorch yardstick for bench:tta: the *same* trained model (its Keras topology and weights read from the
tfjs folder, rebuilt as a torch graph) timed through the same predict path: letterboxed uint8 images →
inference → decode + class-aware NMS (detect, conf 0.25 / IoU 0.7 / 300 per image) or argmax (segment).
Same architecture and weights on both sides, so the figure compares the engines, not the models.

Usage: python3 tools/bench/torch_tta.py --task detect --model models/detect/shapes --images DIR [--batch 32] [--threads 2]
Prints one JSON object: {"inferImgPerS", "blas", "threads", "maxAbsDiff"?}. A reference, never a dependency.
"""
import argparse, json, os, time

import numpy as np
import torch
import torch.nn.functional as F


def blas_name():
    with open('/proc/self/maps') as f:
        maps = f.read()
    for name in ('openblas', 'mkl', 'blis'):
        if name in maps:
            return name.replace('openblas', 'OpenBLAS')
    return 'reference BLAS (libblas)' if 'libblas' in maps else 'unknown'


class KerasGraph(torch.nn.Module):
    """A tfjs LayersModel's topology (model.json) as a torch graph, NCHW, with its weights."""

    def __init__(self, folder):
        super().__init__()
        spec = json.load(open(os.path.join(folder, 'model.json')))
        topo = spec['modelTopology']
        cfg = topo['model_config']['config'] if 'model_config' in topo else topo['config']
        self.layers = cfg['layers']
        self.inputs = [i[0] for i in cfg['input_layers']]
        self.outputs = [o[0] for o in cfg['output_layers']]
        raw = b''.join(open(os.path.join(folder, p), 'rb').read() for g in spec['weightsManifest'] for p in g['paths'])
        self.w, off = {}, 0
        for g in spec['weightsManifest']:
            for e in g['weights']:
                n = int(np.prod(e['shape'])) if e['shape'] else 1
                self.w[e['name']] = torch.from_numpy(np.frombuffer(raw, dtype=np.float32, count=n, offset=off).reshape(e['shape']).copy())
                off += n * 4
        self.meta = spec.get('userDefinedMetadata', {})
        # Conv filters HWIO → OIHW once.
        self.conv = {}
        for l in self.layers:
            if l['class_name'] == 'Conv2D':
                name = l['config']['name']
                k = self.w[f'{name}/kernel'].permute(3, 2, 0, 1).contiguous()
                b = self.w.get(f'{name}/bias')
                self.conv[name] = (k, b)

    def forward(self, x):  # x: NCHW float
        t = {self.inputs[0]: x}
        for l in self.layers:
            c, name = l['config'], l['name']
            if l['class_name'] == 'InputLayer':
                continue
            ins = [t[n[0]] for n in l['inbound_nodes'][0]]
            a = ins[0]
            k = l['class_name']
            if k == 'Conv2D':
                w, b = self.conv[name]
                s = c['strides'][0]
                kh = c['kernel_size'][0]
                if c['padding'] == 'same':
                    # TensorFlow's 'same': the extra pixel goes bottom/right.
                    h, wd = a.shape[2], a.shape[3]
                    ph = max((-(-h // s) - 1) * s + kh - h, 0)
                    pw = max((-(-wd // s) - 1) * s + kh - wd, 0)
                    a = F.pad(a, (pw // 2, pw - pw // 2, ph // 2, ph - ph // 2))
                y = F.conv2d(a, w, b, stride=s)
                act = c.get('activation', 'linear')
                t[name] = F.silu(y) if act == 'swish' else F.relu(y) if act == 'relu' else y
            elif k in ('BatchNormalization', 'FreezableBatchNorm'):  # the suite's freezable BN saves the same weights
                g = self.w.get(f'{name}/gamma')
                be = self.w.get(f'{name}/beta')
                t[name] = F.batch_norm(a, self.w[f'{name}/moving_mean'], self.w[f'{name}/moving_variance'], g, be, False, 0.0, c['epsilon'])
            elif k == 'Activation':
                act = c['activation']
                t[name] = F.silu(a) if act == 'swish' else F.relu(a) if act == 'relu' else torch.sigmoid(a) if act == 'sigmoid' else a
            elif k == 'ReLU':
                t[name] = F.relu(a)
            elif k == 'Add':
                t[name] = sum(ins)
            elif k == 'Concatenate':
                axis = c.get('axis', -1)
                t[name] = torch.cat(ins, 1 if axis in (-1, 3) else axis)
            elif k == 'UpSampling2D':
                t[name] = F.interpolate(a, scale_factor=tuple(c['size']), mode='nearest' if c.get('interpolation', 'nearest') == 'nearest' else 'bilinear')
            elif k == 'MaxPooling2D':
                t[name] = F.max_pool2d(a, c['pool_size'], c['strides'])
            elif k == 'Reshape':
                # Keras reshapes NHWC: go back to NHWC, reshape, stay channels-last from here.
                t[name] = a.permute(0, 2, 3, 1).reshape(a.shape[0], *c['target_shape'])
            elif k == 'Conv2DTranspose':
                w = self.w[f'{name}/kernel'].permute(3, 2, 0, 1).contiguous()  # HW(out)(in) → (in)(out)HW, torch's layout
                y = F.conv_transpose2d(a, w, self.w.get(f'{name}/bias'), stride=c['strides'][0])
                act = c.get('activation', 'linear')
                t[name] = F.silu(y) if act == 'swish' else F.relu(y) if act == 'relu' else y
            else:
                raise SystemExit(f'torch_tta.py: layer {k} is not mapped')
        outs = [t[o] for o in self.outputs]
        return outs[0] if len(outs) == 1 else outs


def letterbox(img, size):
    """uint8 HWC → float NCHW at `size`, aspect kept, grey 114 padding (the suite's letterbox)."""
    h, w = img.shape[:2]
    x = torch.from_numpy(img).permute(2, 0, 1).float().unsqueeze(0)
    if (h, w) == tuple(size):
        return x / 255
    r = min(size[0] / h, size[1] / w)
    nh, nw = round(h * r), round(w * r)
    x = F.interpolate(x, (nh, nw), mode='bilinear', align_corners=False)
    out = torch.full((1, 3, *size), 114.0)
    top, left = (size[0] - nh) // 2, (size[1] - nw) // 2
    out[:, :, top:top + nh, left:left + nw] = x
    return out / 255


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--task', required=True)
    ap.add_argument('--model', required=True)
    ap.add_argument('--images', required=True)
    ap.add_argument('--batch', type=int, default=32)
    ap.add_argument('--threads', type=int, default=os.cpu_count())
    ap.add_argument('--check', help="a float32 file of the tfjs model's raw output on the first --batch images: report the largest difference")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    from PIL import Image
    import torchvision

    net = KerasGraph(args.model).eval()
    meta = net.meta
    size = meta.get('imgsz') or meta.get('inputSize') or [160, 160]
    files = sorted(f for f in os.listdir(args.images) if f.lower().endswith(('.png', '.jpg', '.jpeg')))
    images = [np.array(Image.open(os.path.join(args.images, f)).convert('RGB')) for f in files]

    if args.task == 'detect':
        strides, reg, k = meta['strides'], meta['regMax'], len(meta['classNames'])
        pts, st = [], []
        for s in strides:
            for y in range(-(-size[0] // s)):
                for x in range(-(-size[1] // s)):
                    pts.append(((x + 0.5) * s, (y + 0.5) * s))
                    st.append(s)
        pts, st = torch.tensor(pts), torch.tensor(st, dtype=torch.float32)[:, None]
        bins = torch.arange(reg, dtype=torch.float32)

    def predict(batch):
        x = torch.cat([letterbox(im, size) for im in batch])
        y = net(x)
        if args.task == 'segment':
            return y.argmax(-1 if y.shape[-1] < y.shape[1] else 1)
        d = (y[..., :4 * reg].reshape(y.shape[0], -1, 4, reg).softmax(-1) * bins).sum(-1) * st
        boxes = torch.cat([pts - d[..., :2], pts + d[..., 2:]], -1)
        scores = y[..., 4 * reg:].sigmoid()
        out = []
        for b in range(y.shape[0]):
            s, c = scores[b].max(-1)
            keep = s >= 0.25
            bb, ss, cc = boxes[b][keep], s[keep], c[keep]
            i = torchvision.ops.batched_nms(bb, ss, cc, 0.7)[:300]
            out.append((bb[i], ss[i], cc[i]))
        return out

    extra = {}
    if args.check:
        with torch.inference_mode():
            y = net(torch.cat([letterbox(im, size) for im in images[:args.batch]]))
            y = y.permute(0, 2, 3, 1) if y.dim() == 4 and args.task == 'segment' and y.shape[1] < y.shape[-1] else y
        ref = np.fromfile(args.check, dtype=np.float32)
        got = y.contiguous().numpy().ravel()
        extra = {'maxAbsDiff': float(np.abs(ref - got).max()) if ref.size == got.size else None, 'outputScale': float(np.abs(ref).max())}
    with torch.inference_mode():
        run = lambda: [predict(images[i:i + args.batch]) for i in range(0, len(images), args.batch)]
        run()
        t0 = time.perf_counter()
        passes = 3
        for _ in range(passes):
            run()
        dt = time.perf_counter() - t0
    print(json.dumps({'inferImgPerS': len(images) * passes / dt, 'blas': blas_name(), 'threads': args.threads, 'torch': torch.__version__, **extra}))


if __name__ == '__main__':
    main()
