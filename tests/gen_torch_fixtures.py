#!/usr/bin/python3
"""Generates the PyTorch fixtures in tests/fixtures/ that mbn's network is tested against
(tests/test_torch_forward.c, tests/test_torch_training.c, tests/test_ref_torch.c).

Run from the repository root:   /usr/bin/python3 tests/gen_torch_fixtures.py
Needs only Debian's python3-torch (1.13, CPU). Deterministic: fixed seeds, 2 threads.

MobileNet V1 exactly per SPEC §1, with timm's module names (conv_stem, bn1,
blocks.S.B.{conv_dw,bn1,conv_pw,bn2}, classifier; stages of 1, 2, 2, 6, 2 blocks), ReLU6,
channels max(8, floor(c * alpha)), padding 1, BN eps 1e-5 and momentum 0.1, no conv bias.

Reference values are computed in float64 from float32-representable inputs and weights, then
stored as float32: the stored numbers are the exact answer (to float32 rounding), not
PyTorch's float32 answer. The same computation is also run in float32, and for every stored
output tensor the header metadata records "dev.<name>" = max|torch_f32 - f64| / max|f64|: how
far a legitimate float32 implementation strayed from the exact answer on that tensor. The C
tests derive their tolerances from it.

Files are safetensors written by hand (8-byte little-endian header length, JSON header
{name: {dtype, shape, data_offsets}}, "__metadata__" of strings, raw little-endian data).
"""
import json
import math
import os
import struct
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.set_num_threads(2)
torch.use_deterministic_algorithms(True)

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures")
NUM_CLASSES = 10
SMOOTHING = 0.1
LR, MOMENTUM = 0.1, 0.9

# (cout, stride) per block, grouped into timm's stages
STAGES = [[(64, 1)], [(128, 2), (128, 1)], [(256, 2), (256, 1)],
          [(512, 2)] + [(512, 1)] * 5, [(1024, 2), (1024, 1)]]


def ch(c, alpha):
    return max(8, int(math.floor(c * alpha)))


class DSBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv_dw = nn.Conv2d(cin, cin, 3, stride, 1, groups=cin, bias=False)
        self.bn1 = nn.BatchNorm2d(cin, eps=1e-5, momentum=0.1)
        self.conv_pw = nn.Conv2d(cin, cout, 1, 1, 0, bias=False)
        self.bn2 = nn.BatchNorm2d(cout, eps=1e-5, momentum=0.1)

    def forward(self, x):
        x = F.relu6(self.bn1(self.conv_dw(x)))
        return F.relu6(self.bn2(self.conv_pw(x)))


class MobileNetV1(nn.Module):
    def __init__(self, alpha, num_classes):
        super().__init__()
        c = ch(32, alpha)
        self.conv_stem = nn.Conv2d(3, c, 3, 2, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(c, eps=1e-5, momentum=0.1)
        stages = []
        for stage in STAGES:
            blocks = []
            for cout, s in stage:
                blocks.append(DSBlock(c, ch(cout, alpha), s))
                c = ch(cout, alpha)
            stages.append(nn.Sequential(*blocks))
        self.blocks = nn.Sequential(*stages)
        self.classifier = nn.Linear(c, num_classes)

    def forward(self, x):
        x = F.relu6(self.bn1(self.conv_stem(x)))
        x = self.blocks(x)
        x = x.mean(dim=(2, 3))
        return self.classifier(x)


def state(model):
    """Parameters and BN running stats by timm name (no num_batches_tracked)."""
    return {k: v.detach().clone() for k, v in model.state_dict().items()
            if not k.endswith("num_batches_tracked")}


def trainable_names(model):
    return [k for k, _ in model.named_parameters()]


# ---------------------------------------------------------------- safetensors
class StWriter:
    def __init__(self):
        self.tensors = {}
        self.meta = {}

    def add(self, name, t, dtype="F32"):
        assert name not in self.tensors, name
        t = t.detach().cpu().contiguous()
        t = t.to(torch.float32 if dtype == "F32" else torch.int32)
        self.tensors[name] = (dtype, list(t.shape), t)

    def dev(self, name, t32, t64):
        """Record how far torch's float32 result is from the float64 one (relative to max)."""
        scale = t64.abs().max().item()
        d = (t32.double() - t64).abs().max().item()
        self.meta["dev." + name] = "%.3e" % (d / scale if scale > 0 else d)

    def write(self, path):
        header, blobs, off = {}, [], 0
        for name in sorted(self.tensors):
            dtype, shape, t = self.tensors[name]
            fmt = "<%d%s" % (t.numel(), "f" if dtype == "F32" else "i")
            data = struct.pack(fmt, *t.flatten().tolist())
            header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [off, off + len(data)]}
            blobs.append(data)
            off += len(data)
        if self.meta:
            header["__metadata__"] = dict(sorted(self.meta.items()))
        h = json.dumps(header, separators=(",", ":")).encode()
        h += b" " * ((8 - len(h) % 8) % 8)
        with open(path, "wb") as f:
            f.write(struct.pack("<Q", len(h)))
            f.write(h)
            for b in blobs:
                f.write(b)
        print("wrote %s (%d tensors, %.1f KiB)" % (path, len(self.tensors), os.path.getsize(path) / 1024))


# ---------------------------------------------------------------- model setup
def make_weights(alpha, seed):
    """timm-style init (Kaiming normal fan_out for convs), then non-trivial BN: gamma, beta
    random, running stats calibrated on a random batch and perturbed, so eval-mode activations
    are neither saturated nor dead. Everything rounded to float32."""
    g = torch.Generator().manual_seed(seed)
    m = MobileNetV1(alpha, NUM_CLASSES).double()
    with torch.no_grad():
        for name, mod in m.named_modules():
            if isinstance(mod, nn.Conv2d):
                fan_out = mod.out_channels // mod.groups * 9 if mod.kernel_size[0] == 3 else mod.out_channels
                mod.weight.copy_(torch.randn(mod.weight.shape, generator=g, dtype=torch.float64)
                                 * math.sqrt(2.0 / fan_out))
            elif isinstance(mod, nn.BatchNorm2d):
                c = mod.num_features
                mod.weight.copy_(0.6 + 0.8 * torch.rand(c, generator=g, dtype=torch.float64))
                mod.bias.copy_(-0.1 + 0.5 * torch.rand(c, generator=g, dtype=torch.float64))
            elif isinstance(mod, nn.Linear):
                r = 1.0 / math.sqrt(mod.in_features)
                mod.weight.copy_((2 * torch.rand(mod.weight.shape, generator=g, dtype=torch.float64) - 1) * r)
                mod.bias.copy_((2 * torch.rand(mod.bias.shape, generator=g, dtype=torch.float64) - 1) * 0.1)
        # calibrate running stats with momentum 1 on a random batch, then perturb them
        for mod in m.modules():
            if isinstance(mod, nn.BatchNorm2d):
                mod.momentum = 1.0
        m.train()
        m(torch.randn(8, 3, 64, 64, generator=g, dtype=torch.float64))
        for mod in m.modules():
            if isinstance(mod, nn.BatchNorm2d):
                mod.momentum = 0.1
                c = mod.num_features
                std = mod.running_var.sqrt()
                mod.running_mean.add_(0.2 * std * torch.randn(c, generator=g, dtype=torch.float64))
                mod.running_var.mul_(0.7 + 0.6 * torch.rand(c, generator=g, dtype=torch.float64))
    return {k: v.float() for k, v in state(m).items()}


def build(alpha, weights, dtype):
    m = MobileNetV1(alpha, NUM_CLASSES).to(dtype)
    m.load_state_dict({k: v.to(dtype) for k, v in weights.items()}, strict=False)
    return m


def smooth_targets(labels, K, e):
    t = torch.full((labels.shape[0], K), e / (K - 1), dtype=torch.float64)
    t[torch.arange(labels.shape[0]), labels] = 1.0 - e
    return t


def xent_smooth(logits, labels, e):
    """MindSpore CrossEntropySmooth: soft targets 1-e / e/(K-1), batch mean."""
    t = smooth_targets(labels, logits.shape[1], e).to(logits.dtype)
    return (-(t * F.log_softmax(logits, dim=1)).sum(dim=1)).mean()


def make_inputs(seed):
    g = torch.Generator().manual_seed(seed)
    inputs = {}
    for r in (32, 64, 96):
        inputs["input_r%d_b2_nchw" % r] = torch.randn(2, 3, r, r, generator=g).float()
    inputs["input_r32_b4_nchw"] = torch.randn(4, 3, 32, 32, generator=g).float()
    inputs["input_r64_b8_nchw"] = torch.randn(8, 3, 64, 64, generator=g).float()
    inputs["labels_b4"] = torch.tensor([3, 0, 9, 3], dtype=torch.int32)
    inputs["labels_b8"] = torch.tensor([1, 7, 2, 9, 0, 4, 4, 6], dtype=torch.int32)
    return inputs


# ---------------------------------------------------------------- forward fixtures
def forward_fixture(alpha, weights, inputs, path, with_running):
    w = StWriter()
    for k, v in weights.items():
        w.add(k, v)
    for r in (32, 64, 96):
        x = inputs["input_r%d_b2_nchw" % r]
        out = {}
        for dtype in (torch.float64, torch.float32):
            m = build(alpha, weights, dtype)
            with torch.no_grad():
                m.eval()
                ev = m(x.to(dtype))
                m.train()
                tr = m(x.to(dtype))
                m.eval()  # again, with the running stats that train-mode forward moved
                ev2 = m(x.to(dtype))
            out[dtype] = (ev, tr, state(m), ev2)
        ev64, tr64, st64, ev2_64 = out[torch.float64]
        ev32, tr32, st32, ev2_32 = out[torch.float32]
        w.add("logits_eval_r%d" % r, ev64)
        w.dev("logits_eval_r%d" % r, ev32, ev64)
        w.add("logits_train_r%d" % r, tr64)
        w.dev("logits_train_r%d" % r, tr32, tr64)
        print("alpha %.2f r%d: eval logits %s\n   train logits %s" % (
            alpha, r, ev64[0, :4].tolist(), tr64[0, :4].tolist()))
        if with_running:
            w.add("logits_eval_after_train_r%d" % r, ev2_64)
            w.dev("logits_eval_after_train_r%d" % r, ev2_32, ev2_64)
            for k, v in st64.items():
                if "running" in k:
                    n = "after_train_r%d.%s" % (r, k)
                    w.add(n, v)
                    w.dev(n, st32[k], v)
    w.meta["alpha"] = str(alpha)
    w.meta["num_classes"] = str(NUM_CLASSES)
    w.meta["torch"] = torch.__version__
    w.write(path)


# ---------------------------------------------------------------- training fixtures
def make_opt(m, wd, momentum_state=None):
    decay, no_decay = [], []
    for name, p in m.named_parameters():
        # the exclusion switch: no decay on depthwise weights, BN parameters and biases
        excluded = "conv_dw" in name or ".bn" in name or name.startswith("bn1") or name.endswith("bias")
        (no_decay if excluded else decay).append(p)
    opt = torch.optim.SGD([{"params": decay, "weight_decay": wd},
                           {"params": no_decay, "weight_decay": 0.0}], lr=LR, momentum=MOMENTUM)
    if momentum_state is not None:
        for name, p in m.named_parameters():
            opt.state[p]["momentum_buffer"] = momentum_state[name].to(p.dtype).clone()
    return opt


def train_run(alpha, weights, x, labels, wd, steps, dtype, momentum_state=None):
    """Runs `steps` momentum-SGD steps from `weights` (and optional momentum buffers); returns
    the losses, the state after every step, the first step's gradients and the momentum
    buffers after every step."""
    m = build(alpha, weights, dtype)
    m.train()
    opt = make_opt(m, wd, momentum_state)
    losses, snaps, moms, grads = [], [], [], None
    # smallest distance of any BN output (pre-ReLU6) to the kinks 0 and 6, per step: where it
    # is tiny, float32 rounding may flip the ReLU6 gradient mask and legitimately change the
    # gradients upstream; the tests skip tight gradient checks for such steps
    kinks, cur = [], [float("inf")]

    def hook(mod, inp, out):
        o = out.detach()
        cur[0] = min(cur[0], torch.minimum(o.abs(), (o - 6).abs()).min().item())
    hooks = [mod.register_forward_hook(hook) for mod in m.modules() if isinstance(mod, nn.BatchNorm2d)]
    for step in range(steps):
        opt.zero_grad()
        cur[0] = float("inf")
        loss = xent_smooth(m(x.to(dtype)), labels.long(), SMOOTHING)
        kinks.append(cur[0])
        loss.backward()
        if step == 0:
            grads = {k: p.grad.detach().clone() for k, p in m.named_parameters()}
        opt.step()
        losses.append(loss.item())
        snaps.append(state(m))
        moms.append({k: opt.state[p]["momentum_buffer"].detach().clone() for k, p in m.named_parameters()})
    for h in hooks:
        h.remove()
    train_run.kinks = kinks
    return losses, snaps, grads, moms


KINK_DELTA = 1e-4


def dekink(alpha, weights, x, delta=KINK_DELTA):
    """Returns a copy of `weights` where BN biases (beta) are nudged, by at most a few 1e-3,
    so that in the training-mode forward of batch x no BN output (the pre-ReLU6 value t) lies
    within `delta` of the kinks 0 and 6. Near a kink the float32 rounding of t (up to ~1e-5
    after 20 layers) can put it on the other side than float64 does; the ReLU6 gradient mask
    then legitimately differs and every gradient upstream moves by up to several percent. A
    start state without such elements makes the gradients a well-posed comparison. Layers are
    fixed in forward order (nudging one layer moves everything after it)."""
    w = {k: v.clone() for k, v in weights.items()}
    bns = None
    for _ in range(200):
        m = build(alpha, w, torch.float64)
        m.train()
        names = [n for n, mod in m.named_modules() if isinstance(mod, nn.BatchNorm2d)]
        outs = {}
        hooks = [mod.register_forward_hook(lambda mod, i, o, n=n: outs.__setitem__(n, o.detach()))
                 for n, mod in m.named_modules() if isinstance(mod, nn.BatchNorm2d)]
        with torch.no_grad():
            m(x.double())
        for h in hooks:
            h.remove()
        bns = names
        bad = None
        for n in names:
            t = outs[n].transpose(0, 1).reshape(outs[n].shape[1], -1)  # [C, rows]
            d = torch.minimum(t.abs(), (t - 6).abs()).min(dim=1).values
            if (d < delta).any():
                bad = (n, t, d)
                break
        if bad is None:
            return w
        n, t, d = bad
        key = n + ".bias"
        for c in torch.nonzero(d < delta).flatten().tolist():
            beta = w[key][c].item()
            for k in range(1, 400):
                for sign in (1, -1):
                    nb = torch.tensor(beta + sign * k * 2.5 * delta, dtype=torch.float32)
                    shift = nb.item() - beta
                    tt = t[c] + shift
                    if torch.minimum(tt.abs(), (tt - 6).abs()).min().item() >= 1.5 * delta:
                        break
                else:
                    continue
                break
            else:
                raise RuntimeError("cannot de-kink %s channel %d" % (n, c))
            w[key][c] = nb
    raise RuntimeError("de-kinking did not converge")


def bn_biases(w, prefix, weights):
    """BN biases that differ from `weights` (the overrides the C test applies)."""
    return {prefix + k: v for k, v in w.items()
            if k.endswith(".bias") and "bn" in k and not torch.equal(v, weights[k])}


def training_fixture(alpha, weights, inputs, R, B, wd, path, multi_step, grad_filter=None):
    """Step 1 from the initial weights (fwd file) with the BN biases listed as "init.*" (nudged
    off the ReLU6 kinks, see dekink): loss, gradients (all, or those passing grad_filter) and
    the BN running stats after the step (parameters after it are w0 - lr (g + wd w0)). The
    free-running 3-step losses. With multi_step, two single steps with momentum ("teacher
    forcing": the free-running trajectory is chaotic, see README):
      step 2 from the float32-rounded state and momentum after step 1 (parameters rebuilt from
        the gradients; BN biases overridden by "start2.*"): loss2, then the state "step2.*" and
        momentum "momentum2.*" after it;
      step 3 from step2.* and momentum2.* (BN biases overridden by "start3.*"): loss3, step3.*.
    Every stored state is the float64 computation from the float32-rounded start."""
    x = inputs["input_r%d_b%d_nchw" % (R, B)]
    labels = inputs["labels_b%d" % B]
    w0 = dekink(alpha, weights, x)
    l64, s64, g64, m64 = train_run(alpha, w0, x, labels, wd, 3, torch.float64)
    l32, s32, g32, _ = train_run(alpha, w0, x, labels, wd, 3, torch.float32)
    w = StWriter()
    overrides = bn_biases(w0, "init.", weights)
    for k, v in overrides.items():
        w.add(k, v)
    w.add("loss", torch.tensor(l64, dtype=torch.float64))
    w.dev("loss", torch.tensor(l32), torch.tensor(l64, dtype=torch.float64))
    w.add("loss1", torch.tensor(l64[:1], dtype=torch.float64))
    w.dev("loss1", torch.tensor(l32[:1]), torch.tensor(l64[:1], dtype=torch.float64))
    for k, v in g64.items():
        if grad_filter and not grad_filter(k, v):
            continue
        w.add("grad." + k, v)
        w.dev("grad." + k, g32[k], v)
    for k, v in s64[0].items():
        if "running" in k:
            w.add("step1." + k, v)
            w.dev("step1." + k, s32[0][k] - w0[k].float(), v - w0[k].double())
    n_over = len(overrides)
    if multi_step:
        st1 = {k: v.float() for k, v in s64[0].items()}
        mom1 = {k: v.float() for k, v in m64[0].items()}
        st1d = dekink(alpha, st1, x)
        o2 = bn_biases(st1d, "start2.", st1)
        for k, v in o2.items():
            w.add(k, v)
        a64, b64, _, n64 = train_run(alpha, st1d, x, labels, wd, 1, torch.float64, mom1)
        a32, b32, _, _ = train_run(alpha, st1d, x, labels, wd, 1, torch.float32, mom1)
        w.add("loss2", torch.tensor(a64, dtype=torch.float64))
        w.dev("loss2", torch.tensor(a32), torch.tensor(a64, dtype=torch.float64))
        for k, v in b64[0].items():
            w.add("step2." + k, v)
            w.dev("step2." + k, b32[0][k] - st1d[k], v - st1d[k].double())
        st2 = {k: v.float() for k, v in b64[0].items()}
        mom2 = {k: v.float() for k, v in n64[0].items()}
        for k, v in mom2.items():
            w.add("momentum2." + k, v)
        st2d = dekink(alpha, st2, x)
        o3 = bn_biases(st2d, "start3.", st2)
        for k, v in o3.items():
            w.add(k, v)
        t64, u64, _, _ = train_run(alpha, st2d, x, labels, wd, 1, torch.float64, mom2)
        t32, u32, _, _ = train_run(alpha, st2d, x, labels, wd, 1, torch.float32, mom2)
        w.add("loss3", torch.tensor(t64, dtype=torch.float64))
        w.dev("loss3", torch.tensor(t32), torch.tensor(t64, dtype=torch.float64))
        for k, v in u64[0].items():
            w.add("step3." + k, v)
            w.dev("step3." + k, u32[0][k] - st2d[k], v - st2d[k].double())
        n_over = "%d, %d, %d" % (len(overrides), len(o2), len(o3))
    w.meta.update({"alpha": str(alpha), "resolution": str(R), "batch": str(B),
                   "num_classes": str(NUM_CLASSES), "lr": str(LR), "momentum": str(MOMENTUM),
                   "smoothing": str(SMOOTHING), "weight_decay": str(wd),
                   "decay_excludes": "conv_dw, bn, bias", "kink_delta": str(KINK_DELTA),
                   "input": "input_r%d_b%d_nchw, labels_b%d (inputs.safetensors), the same batch every step" % (R, B, B),
                   "init": "weights of fwd_a%03d.safetensors, then init.* overrides" % int(alpha * 100),
                   "torch": torch.__version__})
    print("train a%.2f r%d b%d wd %g: losses %s (f32 %s), BN bias overrides %s" % (
        alpha, R, B, wd, l64, l32, n_over))
    w.write(path)


# ---------------------------------------------------------------- per-op fixtures
def op_fixture(path):
    """Small single-op cases in float64 (NCHW / OIHW as PyTorch has them), to validate the C
    references (tests/support/ref.c) against PyTorch's own definitions."""
    g = torch.Generator().manual_seed(7)
    w = StWriter()
    d = torch.float64
    # stem conv, stride 2, odd size
    x = torch.randn(2, 3, 9, 7, generator=g, dtype=d)
    k = torch.randn(5, 3, 3, 3, generator=g, dtype=d)
    w.add("stem.x_nchw", x), w.add("stem.w", k), w.add("stem.y_nchw", F.conv2d(x, k, stride=2, padding=1))
    # depthwise, stride 2 and 1, odd size
    x = torch.randn(2, 5, 9, 7, generator=g, dtype=d, requires_grad=True)
    k = torch.randn(5, 1, 3, 3, generator=g, dtype=d, requires_grad=True)
    for s in (1, 2):
        y = F.conv2d(x, k, stride=s, padding=1, groups=5)
        r = torch.randn(y.shape, generator=g, dtype=d)
        gx, gk = torch.autograd.grad((y * r).sum(), (x, k))
        p = "dw_s%d." % s
        w.add(p + "y_nchw", y), w.add(p + "dy_nchw", r), w.add(p + "dx_nchw", gx), w.add(p + "dw", gk)
    w.add("dw.x_nchw", x), w.add("dw.w", k)
    # BN training + ReLU6, forward and backward, running stats
    z = (torch.randn(4, 6, 5, 3, generator=g, dtype=d) * 2 + 1).requires_grad_(True)
    bn = nn.BatchNorm2d(6, eps=1e-5, momentum=0.1).double()
    with torch.no_grad():
        bn.weight.copy_(torch.rand(6, generator=g, dtype=d) + 0.5)
        bn.bias.copy_(torch.rand(6, generator=g, dtype=d) * 2)
        bn.running_mean.copy_(torch.randn(6, generator=g, dtype=d))
        bn.running_var.copy_(torch.rand(6, generator=g, dtype=d) + 0.5)
    w.add("bn.gamma", bn.weight), w.add("bn.beta", bn.bias)
    w.add("bn.running_mean_in", bn.running_mean), w.add("bn.running_var_in", bn.running_var)
    bn.train()
    y = F.relu6(bn(z))
    r = torch.randn(y.shape, generator=g, dtype=d)
    gz, gg, gb = torch.autograd.grad((y * r).sum(), (z, bn.weight, bn.bias))
    w.add("bn.z_nchw", z), w.add("bn.y_nchw", y), w.add("bn.dy_nchw", r), w.add("bn.dz_nchw", gz)
    w.add("bn.dgamma", gg), w.add("bn.dbeta", gb)
    w.add("bn.running_mean_out", bn.running_mean), w.add("bn.running_var_out", bn.running_var)
    # smoothed cross-entropy
    logits = torch.randn(5, 7, generator=g, dtype=d, requires_grad=True) * 3
    labels = torch.tensor([0, 6, 3, 3, 1])
    loss = xent_smooth(logits, labels, 0.1)
    (gl,) = torch.autograd.grad(loss, (logits,))
    w.add("xent.logits", logits), w.add("xent.labels", labels, "I32")
    w.add("xent.loss", loss.reshape(1)), w.add("xent.dlogits", gl)
    # momentum SGD with weight decay, two steps (torch.optim.SGD)
    p = torch.randn(11, generator=g, dtype=d, requires_grad=True)
    w.add("sgd.w0", p)
    opt = torch.optim.SGD([p], lr=0.1, momentum=0.9, weight_decay=0.01)
    grads = torch.randn(2, 11, generator=g, dtype=d)
    for i in range(2):
        p.grad = grads[i].clone()
        opt.step()
    w.add("sgd.grads", grads), w.add("sgd.w2", p)
    w.meta["torch"] = torch.__version__
    w.write(path)


def want(path):
    """With file names on the command line, only those fixtures are rewritten."""
    return len(sys.argv) < 2 or os.path.basename(path) in sys.argv[1:]


def main():
    os.makedirs(OUT, exist_ok=True)
    print("torch", torch.__version__)
    inputs = make_inputs(1234)
    iw = StWriter()
    for k, v in inputs.items():
        iw.add(k, v, "I32" if k.startswith("labels") else "F32")
    iw.meta["torch"] = torch.__version__
    if want("inputs.safetensors"):
        iw.write(os.path.join(OUT, "inputs.safetensors"))
    w025 = make_weights(0.25, 25)
    w050 = make_weights(0.5, 50)
    p = os.path.join(OUT, "fwd_a025.safetensors")
    if want(p):
        forward_fixture(0.25, w025, inputs, p, True)
    p = os.path.join(OUT, "fwd_a050.safetensors")
    if want(p):
        forward_fixture(0.5, w050, inputs, p, False)
    p = os.path.join(OUT, "train_a025_r32_b4.safetensors")
    if want(p):
        training_fixture(0.25, w025, inputs, 32, 4, 0.0, p, False)
    p = os.path.join(OUT, "train_a025_r64_b8_wd.safetensors")
    if want(p):
        training_fixture(0.25, w025, inputs, 64, 8, 1e-4, p, True)
    # alpha 0.5: gradients of every tensor but the two largest (blocks.4.*.conv_pw.weight,
    # 1.5 MiB), to keep the fixtures near 10 MB.
    p = os.path.join(OUT, "train_a050_r64_b8.safetensors")
    if want(p):
        training_fixture(0.5, w050, inputs, 64, 8, 0.0, p, False,
                         grad_filter=lambda k, v: not (k.startswith("blocks.4.") and "conv_pw" in k))
    p = os.path.join(OUT, "ops.safetensors")
    if want(p):
        op_fixture(p)


if __name__ == "__main__":
    sys.exit(main())
