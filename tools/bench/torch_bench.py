"""PyTorch yardstick for tools/bench: the same networks as src/architectures.ts, timed the same way.

Usage: python3 tools/bench/torch_bench.py NAME --threads N --steps S --warmup W [--device cpu|cuda] [--batch B]
Prints one JSON object: {"trainImgPerSec", "inferImgPerSec"}; for NAME = "roofline", {"<kernel>": GFLOP/s}
for the kernels of src/engine-bench.ts's roofline. A reference, never a dependency.
"""
import argparse, json, time
import torch
import torch.nn as nn
import torch.nn.functional as F


class ReferenceCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3, padding=1)
        self.conv2 = nn.Conv2d(32, 64, 3, padding=1)
        self.bn = nn.BatchNorm2d(64)
        self.drop = nn.Dropout(0.25)
        self.fc1 = nn.Linear(64 * 7 * 7, 128)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = self.drop(self.bn(x))
        return self.fc2(F.relu(self.fc1(torch.flatten(x, 1))))


class UNetStage(nn.Module):
    def __init__(self):
        super().__init__()
        self.e1a, self.e1b = nn.Conv2d(3, 32, 3, padding=1), nn.Conv2d(32, 32, 3, padding=1)
        self.e2a, self.e2b = nn.Conv2d(32, 64, 3, padding=1), nn.Conv2d(64, 64, 3, padding=1)
        self.up = nn.ConvTranspose2d(64, 32, 2, stride=2)
        self.d1 = nn.Conv2d(64, 32, 3, padding=1)
        self.head = nn.Conv2d(32, 1, 1)

    def forward(self, x):
        c1 = F.relu(self.e1b(F.relu(self.e1a(x))))
        x = F.relu(self.e2b(F.relu(self.e2a(F.max_pool2d(c1, 2)))))
        x = torch.cat([self.up(x), c1], 1)
        return self.head(F.relu(self.d1(x)))


def cbs(cin, cout, k, s):
    return nn.Sequential(nn.Conv2d(cin, cout, k, s, k // 2, bias=False), nn.BatchNorm2d(cout), nn.SiLU())


class YoloStage(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1, self.c2, self.c3 = cbs(3, 16, 3, 2), cbs(16, 32, 3, 2), cbs(32, 64, 3, 2)
        self.neck = cbs(96, 32, 1, 1)
        self.head = nn.Conv2d(32, 8, 1)

    def forward(self, x):
        p3 = self.c2(self.c1(x))
        x = F.interpolate(self.c3(p3), scale_factor=2, mode="nearest")
        return self.head(self.neck(torch.cat([x, p3], 1)))


NETS = {  # name: (module, input CHW, batch, loss)
    "reference-cnn": (ReferenceCNN, (1, 28, 28), 64, "ce"),
    "unet-stage": (UNetStage, (3, 128, 128), 8, "mse"),
    "yolo-stage": (YoloStage, (3, 160, 160), 8, "mse"),
}


def gflops(fn, flops, min_seconds=1.0):
    """Best-of-3 GFLOP/s of fn(), each sample repeating it for at least min_seconds / 3."""
    fn()
    best = 0.0
    for _ in range(3):
        n, t0 = 0, time.perf_counter()
        while True:
            fn()
            n += 1
            dt = time.perf_counter() - t0
            if dt >= min_seconds / 3:
                break
        best = max(best, flops * n / dt / 1e9)
    return best


def roofline():
    """Same kernels and shapes as rooflineKernels() in src/engine-bench.ts (NCHW here, NHWC there)."""
    out = {}
    with torch.no_grad():
        for n in (256, 1024):
            a, b = torch.rand(n, n), torch.rand(n, n)
            out[f"matmul-{n}"] = gflops(lambda: torch.matmul(a, b), 2 * n ** 3)
        x, w = torch.rand(64, 32, 14, 14), torch.rand(64, 32, 3, 3)
        out["conv3x3-14x14x32-64"] = gflops(lambda: F.conv2d(x, w, padding=1), 2 * 64 * 14 * 14 * 64 * 32 * 9)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("name")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--device", default="cpu", help="cpu or cuda (each step then reads its loss back, as bench:gpu's steps do)")
    ap.add_argument("--batch", type=int, default=0, help="batch size (0: the network's default)")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    if a.name == "roofline":
        print(json.dumps(roofline()))
        return
    torch.manual_seed(0)
    cls, chw, batch, loss_kind = NETS[a.name]
    batch = a.batch or batch
    dev = torch.device(a.device)
    cuda = dev.type == "cuda"
    model = cls().to(dev)
    opt = torch.optim.Adam(model.parameters(), 1e-3)
    x = torch.rand(batch, *chw, device=dev)
    with torch.no_grad():
        out_shape = model(x).shape
    y = torch.randint(0, 10, (batch,), device=dev) if loss_kind == "ce" else torch.rand(out_shape, device=dev)

    def step():
        opt.zero_grad()
        out = model(x)
        loss = F.cross_entropy(out, y) if loss_kind == "ce" else F.mse_loss(out, y)
        loss.backward()
        opt.step()
        if cuda:
            loss.item()  # the step's read-back, as a training loop logs it

    model.train()
    for _ in range(a.warmup):
        step()
    t0 = time.perf_counter()
    for _ in range(a.steps):
        step()
    if cuda:
        torch.cuda.synchronize()
    train = batch * a.steps / (time.perf_counter() - t0)
    model.eval()
    with torch.no_grad():
        for _ in range(a.warmup):
            model(x)
        n = a.steps * 3
        t0 = time.perf_counter()
        for _ in range(n):
            out = model(x)
            if cuda:
                out.cpu()  # the prediction read back, as bench:gpu's inference reads it
        infer = batch * n / (time.perf_counter() - t0)
    print(json.dumps({"trainImgPerSec": train, "inferImgPerSec": infer}))


if __name__ == "__main__":
    main()
