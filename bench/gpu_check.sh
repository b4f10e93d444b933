#!/usr/bin/env bash
# Device check for a lent NVIDIA GPU machine (no network there): mbn's kernels and tests on
# NVIDIA's OpenCL driver with every kernel family (MBN_KERNELS=generic|cpu|gpu; auto picks the
# gpu rows there), throughput of the gpu family against the generic one (CLBlast + one
# work-item per element: what GPUs ran before the variant table) next to PyTorch/CUDA in the
# same run, the per-op harness on the GPU, the fp16 path (op tests and fixtures with the half
# arithmetic the GPU has, its speed next to fp32 and PyTorch's eager fp16), and the timm
# interchange with the real timm package.
# Needs the build folder and .carry/ (the OpenCL ICD loader, CLBlast, libjpeg-turbo, libpng, a
# small Fashion-MNIST subset) carried from a Debian build. Results go to $OUT; the numbers to
# copy into docs/GPU.md are listed at the end of docs/GPU.md.
set -u
R=$PWD
OUT=${OUT:-/tmp/mbn-gpu}
mkdir -p "$OUT"
export LD_LIBRARY_PATH=$R/.carry/lib:${LD_LIBRARY_PATH:-}
# ctest files hold the build machine's absolute paths.
if [ ! -e /work/main ]; then mkdir -p /work && ln -s "$R" /work/main; fi
lib=$(ls /usr/local/nvidia/lib64/libnvidia-opencl.so.1 /usr/local/nvidia/lib/libnvidia-opencl.so.1 \
      /usr/lib/x86_64-linux-gnu/libnvidia-opencl.so.1 2>/dev/null | head -1)
mkdir -p "$R/.carry/icd"
echo "${lib:-libnvidia-opencl.so.1}" > "$R/.carry/icd/nvidia.icd"
export OCL_ICD_VENDORS=$R/.carry/icd
export MBN_DEVICE=nvidia
nvidia-smi -L
echo "== devices"; build/mbn devices; build/mbn devices --json > "$OUT/devices.json"
# The plan the device's profile chose (host/plan.h): profile, every parameter with its source
# (device, database, tuned), the build options. Recorded as is in $OUT/devices.json.
python3 -c "
import json; d = json.load(open('$OUT/devices.json'))['devices']
for x in d:
    print(x['name'], '|', x['profile']['summary'], '| simd', x['profile']['simd_width'])
    for k, v in x['kernels']['ops'].items():
        print('   ', k, v['variant'], v['params'], set(v['sources'].values()))
    print('    tuning:', x['tuning'])"
echo "== tests on the GPU, every kernel family (ctest label 'kernels': op tests, fused ops, PyTorch fixtures)"
(cd /work/main/build && timeout 300 ctest -L kernels -R "test_ops|test_torch" --output-on-failure 2>&1 | tail -30) | tee "$OUT/ctest_kernels.txt"
(cd /work/main/build && timeout 200 ctest -R "test_net_det|test_program_cache|test_timm|test_train_overfit|test_variants" \
    --output-on-failure 2>&1 | tail -12) | tee "$OUT/ctest.txt"
echo "== mbn bench: auto (gpu rows) and MBN_KERNELS=generic, alternating"
bench() { # family, args...
    local fam=$1; shift
    MBN_KERNELS=$fam build/mbn bench "$@" --seconds 3 --json >> "$OUT/bench.jsonl" 2>>"$OUT/bench.err"
    tail -1 "$OUT/bench.jsonl" | python3 -c "import json,sys; r=json.load(sys.stdin)['results'][0]; print('$fam', r['alpha'], r['resolution'], r['mode'], r.get('precision', 'fp32'), r['batch'], round(r['images_per_s'],1), 'img/s', round(r['launches_per_step']), 'launches/step', round(r['device_memory_bytes'] / 2**20, 1), 'MiB')"
}
for args in "--mode infer --batch-size 1" "--mode infer --batch-size 32" "--mode infer --batch-size 256" \
            "--mode train --batch-size 32" "--mode train --batch-size 128"; do
    for fam in auto generic; do bench $fam $args; done
done
for fam in auto generic; do bench $fam --mode train --alpha 0.25 --resolution 32 --batch-size 64 --num-classes 10; done
build/mbn bench --mode train --batch-size 32 --seconds 3 > "$OUT/train_layers_auto.txt" 2>&1
build/mbn bench --mode infer --batch-size 256 --seconds 3 > "$OUT/infer_layers_auto.txt" 2>&1
echo "== per-op harness, batch 32 (every variant the GPU can run, checked against the C references)"
for op in dw_fwd dw_bwd_input dw_bwd_weight bn_fwd bn_bwd gemm gemm_wgrad stem_fwd dwpw_fwd; do
    timeout 120 build/bench/op_bench $op --batch 32 --iterations 20 2>&1 | tee -a "$OUT/op_bench.txt" | tail -n +2
done
echo "== PyTorch CUDA, same model, fp32"
python3 - <<'PY' 2>&1 | tee "$OUT/torch.txt"
import sys, time, torch
sys.path.insert(0, "bench")
from pytorch_bench import mobilenet_v1
torch.backends.cudnn.benchmark = True
def run(fn, iters):
    for _ in range(3): fn()
    torch.cuda.synchronize(); t = time.time()
    for _ in range(iters): fn()
    torch.cuda.synchronize(); return (time.time() - t) / iters
for alpha, res, K in ((1.0, 224, 1000), (0.25, 32, 10)):
    m = mobilenet_v1(alpha, K).cuda()
    for cl in (False, True):
        mm = m.to(memory_format=torch.channels_last) if cl else m
        mm.eval()
        for b in ((1, 32, 256) if res == 224 else ()):
            x = torch.randn(b, 3, res, res, device="cuda")
            if cl: x = x.to(memory_format=torch.channels_last)
            with torch.no_grad(): t = run(lambda: mm(x), 30)
            print(f"torch {alpha}-{res} infer batch {b} channels_last={cl}: {b/t:.1f} img/s")
        mm.train()
        opt = torch.optim.SGD(mm.parameters(), lr=0.01, momentum=0.9)
        for b in ((32, 128) if res == 224 else (64,)):
            x = torch.randn(b, 3, res, res, device="cuda"); y = torch.randint(0, K, (b,), device="cuda")
            if cl: x = x.to(memory_format=torch.channels_last)
            def step():
                opt.zero_grad(); torch.nn.functional.cross_entropy(mm(x), y).backward(); opt.step()
            t = run(step, 20)
            print(f"torch {alpha}-{res} train batch {b} channels_last={cl}: {b/t:.1f} img/s")
PY
echo "== fp16 (--precision fp16): half storage, half arithmetic where the device has cl_khr_fp16"
build/mbn devices --json | python3 -c "
import json, sys
for x in json.load(sys.stdin)['devices']:
    p = {k: v['params'] for k, v in x['kernels']['ops'].items() if k in ('gemm', 'dw_fwd')}
    print(x['name'], 'fp16', x['fp16'], p)" | tee "$OUT/fp16_devices.txt"
(cd /work/main/build && timeout 240 ctest -R "test_ops_half$|test_torch_forward$|test_device_profiles_fp16" \
    --output-on-failure 2>&1 | tail -8) | tee "$OUT/ctest_fp16.txt"
(cd /work/main/build && ./tests/test_ops_half 2>&1 | grep -E "half arithmetic|FAIL" | head -5) | tee -a "$OUT/ctest_fp16.txt"
for b in 1 32 256; do
    for p in fp32 fp16; do bench auto --mode infer --batch-size $b --precision $p; done
done
build/mbn bench --mode infer --batch-size 32 --precision fp16 --seconds 3 > "$OUT/infer_layers_fp16.txt" 2>&1
echo "== PyTorch CUDA eager fp16 (model.half(), channels_last), same model"
python3 - <<'PY' 2>&1 | tee "$OUT/torch_fp16.txt"
import sys, time, torch
sys.path.insert(0, "bench")
from pytorch_bench import mobilenet_v1
torch.backends.cudnn.benchmark = True
m = mobilenet_v1(1.0, 1000).cuda().half().to(memory_format=torch.channels_last).eval()
for b in (1, 32, 256):
    x = torch.randn(b, 3, 224, 224, device="cuda").half().to(memory_format=torch.channels_last)
    with torch.no_grad():
        for _ in range(3): m(x)
        torch.cuda.synchronize(); t = time.time()
        for _ in range(30): m(x)
        torch.cuda.synchronize(); t = (time.time() - t) / 30
    print(f"torch 1.0-224 infer fp16 batch {b} channels_last=True: {b/t:.1f} img/s")
PY
python3 - "$OUT/bench.jsonl" <<'PY' | tee "$OUT/fp16_ratio.txt"
import json, sys
rows = [json.loads(l)["results"][0] for l in open(sys.argv[1]) if l.strip()]
best = {}
for r in rows:
    if r["mode"] == "infer" and r["alpha"] == 1.0:
        k = (r.get("precision", "fp32"), r["batch"])
        best[k] = max(best.get(k, 0), r["images_per_s"])
for b in (1, 32, 256):
    if ("fp16", b) in best and ("fp32", b) in best:
        print(f"mbn fp16 / fp32 at batch {b}: {best[('fp16', b)] / best[('fp32', b)]:.2f}x "
              f"({best[('fp16', b)]:.0f} vs {best[('fp32', b)]:.0f} img/s; goal at 32: 1.5x)")
PY
echo "== train on the GPU (Fashion-MNIST subset, auto = gpu rows), eval, export, load into real timm"
rm -rf /tmp/gck
build/mbn train --data .carry/fashion-mnist --alpha 0.25 --resolution 32 --batch-size 64 --epochs 3 \
    --ckpt-dir /tmp/gck --json 2>"$OUT/train.err" | tee "$OUT/train.json"
tail -3 "$OUT/train.err"
ck=$(ls /tmp/gck/mobilenetv1-3_*.ckpt)
build/mbn eval --data .carry/fashion-mnist --checkpoint "$ck" --json | tee "$OUT/eval.json"
build/mbn export --checkpoint "$ck" --out /tmp/gck/w.safetensors
python3 - <<'PY' 2>&1 | tee "$OUT/timm.txt"
import sys, torch, timm
sys.path.insert(0, "tests")
print("timm", timm.__version__, "torch", torch.__version__)
from timm.models.efficientnet import _gen_mobilenet_v1
from timm_mbv1 import MobileNetV1, read_safetensors, widths_from_state
def timm_model(alpha, k):
    return _gen_mobilenet_v1("mobilenetv1_100", channel_multiplier=alpha, num_classes=k).eval()
# 1. the committed fixture (random weights + BN stats, timm names) in REAL timm: same logits
st = {k: v.float() for k, v in read_safetensors("tests/fixtures/timm_mbv1_025.safetensors").items()}
io = read_safetensors("tests/fixtures/timm_mbv1_025_io.safetensors")
m = timm_model(0.25, 10)
missing = m.load_state_dict(st, strict=False)
print("fixture in timm: missing", [k for k in missing.missing_keys if "num_batches" not in k], "unexpected", missing.unexpected_keys)
with torch.no_grad(): d = (m(io["input"].float()) - io["logits"].float()).abs().max().item()
print(f"fixture logits: timm vs the fixture's (= mbn's within 1e-4): max diff {d:.3g}")
# 2. mbn-trained, mbn-exported weights: strict load into real timm, logits equal to the
#    timm-named reference model's
w = {k: v.float() for k, v in read_safetensors("/tmp/gck/w.safetensors").items()}
m = timm_model(0.25, 10)
sd = dict(w)
for k in m.state_dict():
    if k.endswith("num_batches_tracked"): sd[k] = torch.zeros((), dtype=torch.long)
m.load_state_dict(sd, strict=True)
ref = MobileNetV1(num_classes=10, widths=widths_from_state(w)).eval(); ref.load_state_dict(sd, strict=True)
x = io["input"].float()
with torch.no_grad(): a, b = m(x), ref(x)
print(f"mbn export -> timm strict=True: OK; timm vs reference logits max diff {(a-b).abs().max().item():.3g}")
PY
echo "done"
