#!/usr/bin/env bash
# mbn summary reproduces the paper's Tables 6-7 (SPEC §1) for the eight configurations, and the
# exact counts the spec gives; the per-layer JSON adds up to the totals.
set -euo pipefail
MBN=${MBN:-build/mbn}
fail=0
check() { # alpha res macs_M params_M
    local out
    out=$("$MBN" summary --alpha "$1" --resolution "$2" --json)
    python3 - "$1" "$2" "$3" "$4" "$out" <<'PY' || fail=1
import json, sys
alpha, res, want_macs, want_params, doc = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), json.loads(sys.argv[5])
macs_m = round(doc["macs"] / 1e6)
params_m = round(doc["params"] / 1e6, 1)
assert sum(l["macs"] for l in doc["layers"]) == doc["macs"], "layer MACs do not add up"
assert sum(l["params"] for l in doc["layers"]) == doc["params"], "layer params do not add up"
assert len(doc["layers"]) == 29, len(doc["layers"])
ok = macs_m == want_macs and abs(params_m - want_params) < 1e-9
print(f"{'ok ' if ok else 'FAIL'} {alpha}-{res}: {macs_m} M MACs (want {want_macs}), {params_m} M params (want {want_params})")
sys.exit(0 if ok else 1)
PY
}
check 1.0 224 569 4.2
check 0.75 224 325 2.6
check 0.5 224 149 1.3
check 0.25 224 41 0.5
check 1.0 192 418 4.2
check 1.0 160 291 4.2
check 1.0 128 186 4.2
check 1.0 224 569 4.2
exact() { # alpha res key value
    local got
    got=$("$MBN" summary --alpha "$1" --resolution "$2" --json | python3 -c "import json,sys; print(json.load(sys.stdin)['$3'])")
    if [ "$got" != "$4" ]; then echo "FAIL $1-$2 $3 = $got, want $4"; fail=1; else echo "ok  $1-$2 $3 = $got"; fi
}
exact 1.0 224 macs 568740352
exact 1.0 224 params 4231976
exact 0.75 224 params 2585560
# The text table ends with the same totals.
"$MBN" summary | tail -1 | grep -q "568740352 MACs (569 M), 4231976 params (4.2 M)" || { echo "FAIL text totals"; fail=1; }
# Layer shapes at 1.0-224 follow the paper's Table 1.
"$MBN" summary --json | python3 -c "
import json,sys
L = json.load(sys.stdin)['layers']
assert L[0]['output'] == [32,112,112], L[0]
assert L[-3]['output'] == [1024,7,7], L[-3]
assert L[-1]['output'] == [1000,1,1], L[-1]
assert [l['stride'] for l in L if l['type']=='dwconv3x3'] == [1,2,1,2,1,2,1,1,1,1,1,2,1]
print('ok  layer shapes and strides')" || fail=1
exit $fail
