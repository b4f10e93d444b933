#!/usr/bin/env bash
# mbn devices lists at least the PoCL CPU device with the keys SPEC §4 promises, and the index
# it prints selects that device in --device.
set -euo pipefail
MBN=${MBN:-build/mbn}
"$MBN" devices --json | python3 -c "
import json, sys
doc = json.load(sys.stdin)
devs = doc['devices']
assert devs, 'no devices'
for i, d in enumerate(devs):
    for k in ('index', 'platform', 'name', 'vendor', 'type', 'memory_bytes', 'compute_units', 'fp16'):
        assert k in d, (k, d)
    assert d['index'] == i
    assert d['memory_bytes'] > 0 and d['compute_units'] > 0
    # the kernel variant each op uses on the device (host/variants.h)
    ops = d['kernels']['ops']
    for op in ('dw_fwd', 'dw_bwd_input', 'dw_bwd_weight', 'bn_fwd', 'bn_bwd', 'gemm', 'gemm_wgrad'):
        assert ops[op]['variant'].startswith(op + '.'), (op, ops[op])
print('ok  %d device(s): %s' % (len(devs), ', '.join(d['name'] for d in devs)))
"
# MBN_KERNELS forces a family; a bad value is a usage error naming it.
MBN_KERNELS=generic "$MBN" devices --json | python3 -c "
import json, sys
for d in json.load(sys.stdin)['devices']:
    assert d['kernels']['family'] == 'generic'
    assert all(o['family'] == 'generic' for o in d['kernels']['ops'].values()), d['kernels']
"
set +e
err=$(MBN_KERNELS=fastest "$MBN" devices 2>&1)
rc=$?
set -e
[ $rc -eq 2 ] || { echo "FAIL: MBN_KERNELS=fastest exited $rc"; exit 1; }
echo "$err" | grep -q "MBN_KERNELS=fastest" || { echo "FAIL: $err"; exit 1; }
echo "ok  MBN_KERNELS=generic is reported; a bad value exits 2 naming MBN_KERNELS"
"$MBN" devices | grep -q "^0: "
# Selecting by index and by a name substring reaches the same device.
name=$("$MBN" devices --json | python3 -c "import json,sys; print(json.load(sys.stdin)['devices'][0]['name'])")
sub=${name:0:6}
"$MBN" bench --device 0 --alpha 0.25 --resolution 32 --batch-size 2 --iterations 1 --json | grep -q "\"device\":\"$name\""
"$MBN" bench --device "$sub" --alpha 0.25 --resolution 32 --batch-size 2 --iterations 1 --json | grep -q "\"device\":\"$name\""
MBN_DEVICE=0 "$MBN" bench --alpha 0.25 --resolution 32 --batch-size 2 --iterations 1 --json | grep -q "\"device\":\"$name\""
echo "ok  device selection by index, name substring and MBN_DEVICE"
