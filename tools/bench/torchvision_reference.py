"""
Reference outputs of torchvision's architectures for the backbone import checks (libs/backbones).

For each architecture: a model with random weights and random BatchNorm statistics (eval mode), its state dict as
safetensors (written here: an 8-byte header length, a JSON header, raw little-endian tensors), the same model as
ONNX (torch.onnx.export's defaults: BatchNorm folded into the convolutions), an input batch and PyTorch's outputs:
the feature map ending each stage (NHWC) and the logits. With --tiny, narrow variants (torchvision's width / depth
multipliers; ResNet with narrower stages through torchvision's own blocks) small enough to commit.

Also writes PIL resize / centre-crop cases (the reference preprocessing of classify's imported models).

Run with Debian's PyTorch (a yardstick, never a dependency of the suite):
  /usr/bin/python3 tools/bench/torchvision_reference.py --tiny --out libs/backbones/fixtures/torchvision
  /usr/bin/python3 tools/bench/torchvision_reference.py --out tmp/torchvision-full
"""
import argparse
import json
import os
import struct

import numpy as np
import torch
import torchvision
from PIL import Image
from torch import nn
from torchvision.models.resnet import BasicBlock, Bottleneck, ResNet

# Module whose output ends each stage (the suite's featureInfo: stem, stage1..stage4).
STAGE_MODULES = {
    "resnet18": ["relu", "layer1", "layer2", "layer3", "layer4"],
    "resnet50": ["relu", "layer1", "layer2", "layer3", "layer4"],
    "mobilenet_v2": ["features.1", "features.3", "features.6", "features.13", "features.18"],
    "mobilenet_v3_small": ["features.0", "features.1", "features.3", "features.8", "features.12"],
    "mobilenet_v3_large": ["features.1", "features.3", "features.6", "features.12", "features.16"],
    "efficientnet_b0": ["features.1", "features.2", "features.3", "features.5", "features.8"],
}

# Tiny variants: the options the TypeScript side builds with (createBackbone's widthMult / depthMult).
TINY = {
    "resnet18": {"widthMult": 0.0625},
    "resnet50": {"widthMult": 0.03125},
    "mobilenet_v2": {"widthMult": 0.1},
    "mobilenet_v3_small": {"widthMult": 0.1},
    "mobilenet_v3_large": {"widthMult": 0.1},
    "efficientnet_b0": {"widthMult": 0.1, "depthMult": 0.34},
}


class NarrowResNet(ResNet):
    """torchvision's ResNet (its blocks, _make_layer and forward) with stages of width·2^i channels."""

    def __init__(self, block, layers, width, num_classes):
        nn.Module.__init__(self)
        self._norm_layer = nn.BatchNorm2d
        self.inplanes, self.dilation, self.groups, self.base_width = width, 1, 1, 64
        self.conv1 = nn.Conv2d(3, width, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = self._make_layer(block, width, layers[0])
        self.layer2 = self._make_layer(block, width * 2, layers[1], stride=2)
        self.layer3 = self._make_layer(block, width * 4, layers[2], stride=2)
        self.layer4 = self._make_layer(block, width * 8, layers[3], stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(width * 8 * block.expansion, num_classes)


def build(arch, tiny, num_classes):
    M = torchvision.models
    if not tiny:
        return getattr(M, arch)(weights=None, num_classes=num_classes)
    opts = TINY[arch]
    w = opts["widthMult"]
    if arch in ("resnet18", "resnet50"):
        block, layers = (BasicBlock, [2, 2, 2, 2]) if arch == "resnet18" else (Bottleneck, [3, 4, 6, 3])
        return NarrowResNet(block, layers, round(64 * w), num_classes)
    if arch == "mobilenet_v2":
        return M.mobilenet_v2(weights=None, num_classes=num_classes, width_mult=w)
    if arch.startswith("mobilenet_v3"):
        from torchvision.models.mobilenetv3 import MobileNetV3, _mobilenet_v3_conf

        setting, last = _mobilenet_v3_conf(arch, width_mult=w)
        return MobileNetV3(setting, last, num_classes=num_classes)
    if arch == "efficientnet_b0":
        from torchvision.models.efficientnet import EfficientNet, _efficientnet_conf

        setting, last = _efficientnet_conf(arch, width_mult=w, depth_mult=opts["depthMult"])
        return EfficientNet(setting, 0.2, last_channel=last, num_classes=num_classes)
    raise ValueError(arch)


def randomize(model, gen):
    """Random weights everywhere and BatchNorm statistics far from identity, so a misplaced tensor shows."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.weight.copy_(torch.rand(m.weight.shape, generator=gen) + 0.5)
                m.bias.copy_(torch.randn(m.bias.shape, generator=gen) * 0.2)
                m.running_mean.copy_(torch.randn(m.running_mean.shape, generator=gen) * 0.2)
                m.running_var.copy_(torch.rand(m.running_var.shape, generator=gen) * 1.5 + 0.5)
            elif isinstance(m, (nn.Conv2d, nn.Linear)) and m.bias is not None:
                m.bias.copy_(torch.randn(m.bias.shape, generator=gen) * 0.1)
            if isinstance(m, nn.Linear):
                m.weight.copy_(torch.randn(m.weight.shape, generator=gen) / m.weight.shape[1] ** 0.5)


def write_safetensors(path, tensors):
    header, offset, blobs = {"__metadata__": {"format": "pt"}}, 0, []
    for name, t in tensors.items():
        b = t.detach().contiguous().numpy().astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(b)]}
        offset += len(b)
        blobs.append(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def nhwc(t):
    return t.detach().permute(0, 2, 3, 1).contiguous().numpy().astype("<f4") if t.dim() == 4 else t.detach().numpy().astype("<f4")


def reference(arch, out, tiny, size, num_classes, seed, batch, predict_images=()):
    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    model = build(arch, tiny, num_classes).eval()
    randomize(model, gen)
    feats = {}
    modules = dict(model.named_modules())
    for i, name in enumerate(STAGE_MODULES[arch]):
        modules[name].register_forward_hook(lambda _m, _i, o, i=i: feats.__setitem__(i, o.clone()))
    h, w = size
    x01 = torch.rand((batch, 3, h, w), generator=gen)
    norm = torchvision.transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])
    with torch.no_grad():
        logits = model(norm(x01))
    os.makedirs(out, exist_ok=True)
    state = {k: v for k, v in model.state_dict().items() if v.dtype == torch.float32}
    write_safetensors(os.path.join(out, f"{arch}.safetensors"), state)
    torch.onnx.export(model, norm(x01), os.path.join(out, f"{arch}.onnx"), opset_version=13, input_names=["input"], output_names=["logits"])
    arrays = {"input": nhwc(x01), **{f"feature{i}": nhwc(feats[i]) for i in range(len(feats))}, "logits": nhwc(logits)}
    manifest, blob = {}, b""
    for k, a in arrays.items():
        manifest[k] = {"shape": list(a.shape), "offset": len(blob)}
        blob += a.tobytes()
    with open(os.path.join(out, f"{arch}.expected.bin"), "wb") as f:
        f.write(blob)
    meta = {"arch": arch, "options": TINY[arch] if tiny else {}, "numClasses": num_classes, "seed": seed, "arrays": manifest,
            "torch": torch.__version__, "torchvision": torchvision.__version__}
    with open(os.path.join(out, f"{arch}.json"), "w") as f:
        json.dump(meta, f, indent=1)
    if predict_images:
        # torchvision's eval transform on a PIL image (what `weights.transforms()` does), then softmax.
        interp = torchvision.transforms.InterpolationMode.BICUBIC if arch.startswith("efficientnet") else torchvision.transforms.InterpolationMode.BILINEAR
        t = torchvision.transforms.Compose([torchvision.transforms.Resize(256, interpolation=interp), torchvision.transforms.CenterCrop(224),
                                            torchvision.transforms.ToTensor(), norm])
        probs = {}
        with torch.no_grad():
            for path in predict_images:
                p = torch.softmax(model(t(Image.open(path).convert("RGB")).unsqueeze(0)), 1)[0]
                probs[os.path.basename(path)] = [float(v) for v in p]
        with open(os.path.join(out, f"{arch}.predict.json"), "w") as f:
            json.dump(probs, f)
    print(f"{arch}: {sum(v.numel() for v in state.values())} tensor values, logits |max| {logits.abs().max():.3f}")


def resize_cases(out):
    """PIL's resize (torchvision's Resize on a PIL image) + CenterCrop, for bilinear and bicubic, down and up."""
    rng = np.random.default_rng(7)
    yy, xx = np.mgrid[0:47, 0:61]
    base = np.stack([xx * 4, yy * 5, (xx + yy) * 2], -1) + rng.integers(0, 60, (47, 61, 3))
    img = Image.fromarray(np.clip(base, 0, 255).astype(np.uint8), "RGB")
    img.save(os.path.join(out, "resize-source.png"))
    cases, blob = [], b""
    for interp in ("bilinear", "bicubic"):
        mode = {"bilinear": torchvision.transforms.InterpolationMode.BILINEAR, "bicubic": torchvision.transforms.InterpolationMode.BICUBIC}[interp]
        for resize, crop in ((20, 17), (40, 33), (80, 64), (47, 47)):
            t = torchvision.transforms.Compose([torchvision.transforms.Resize(resize, interpolation=mode), torchvision.transforms.CenterCrop(crop)])
            a = np.asarray(t(img), dtype=np.uint8)
            cases.append({"interpolation": interp, "resize": resize, "crop": crop, "shape": list(a.shape), "offset": len(blob)})
            blob += a.tobytes()
    with open(os.path.join(out, "resize-expected.bin"), "wb") as f:
        f.write(blob)
    with open(os.path.join(out, "resize.json"), "w") as f:
        json.dump({"source": "resize-source.png", "cases": cases}, f, indent=1)


def photos(out):
    """Two photo-like test images of other sizes and aspect ratios: smooth colour fields with texture."""
    rng = np.random.default_rng(11)
    paths = []
    for name, (h, w) in (("photo.png", (240, 320)), ("photo.jpg", (400, 300))):
        yy, xx = np.mgrid[0:h, 0:w] / max(h, w)
        base = np.stack([np.sin(7 * xx + 3 * yy), np.cos(5 * yy - 2 * xx), np.sin(4 * (xx + yy))], -1) * 90 + 128
        img = np.clip(base + rng.normal(0, 18, (h, w, 3)), 0, 255).astype(np.uint8)
        path = os.path.join(out, name)
        Image.fromarray(img, "RGB").save(path, quality=92) if name.endswith(".jpg") else Image.fromarray(img, "RGB").save(path)
        paths.append(path)
    return paths


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--out", required=True)
    p.add_argument("--tiny", action="store_true")
    p.add_argument("--archs", default=",".join(STAGE_MODULES))
    p.add_argument("--height", type=int, default=45)
    p.add_argument("--width", type=int, default=38)
    p.add_argument("--batch", type=int, default=1)
    p.add_argument("--photos", action="store_true", help="also write two test photos (PNG, JPEG) and torchvision's probabilities on them")
    p.add_argument("--classes", type=int, default=10)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()
    torch.set_num_threads(2)
    os.makedirs(a.out, exist_ok=True)
    images = photos(a.out) if a.photos else []
    for arch in a.archs.split(","):
        reference(arch, a.out, a.tiny, (a.height, a.width), a.classes, a.seed, a.batch, images)
    resize_cases(a.out)


if __name__ == "__main__":
    main()
