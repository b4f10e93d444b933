#!/usr/bin/env bash
# mbn bench: the JSON keys SPEC §4 promises plus the vendor-comparison figures (ms/step, GFLOP/s
# from the model's MACs, share of the measured FMA peak, tuning state), the --report HTML page
# (well-formed, self-contained, one bar per layer, one table row and chart per device), and the
# FMA-peak cache (used when valid; damaged or foreign files ignored with one warning).
set -euo pipefail
MBN=${MBN:-build/mbn}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export MBN_CACHE_DIR=$tmp/cache
small=(--alpha 0.25 --resolution 32 --num-classes 10 --batch-size 2 --iterations 1)

"$MBN" summary --alpha 0.25 --resolution 32 --num-classes 10 --json >"$tmp/summary.json"
"$MBN" bench "${small[@]}" --json --report "$tmp/infer.html" >"$tmp/infer.json"
"$MBN" bench "${small[@]}" --mode train --json --report "$tmp/train.html" >"$tmp/train.json"
python3 - "$tmp" <<'PY'
import json, math, sys
d = sys.argv[1]
summary = json.load(open(f"{d}/summary.json"))
macs = summary["macs"]
stem = summary["layers"][0]["macs"]
for mode in ("infer", "train"):
    doc = json.load(open(f"{d}/{mode}.json"))
    assert len(doc["results"]) == 1, doc
    r = doc["results"][0]
    for k in ("device", "mode", "batch", "images_per_s", "layers",  # SPEC §4
              "device_index", "device_type", "alpha", "resolution", "num_classes", "iterations",
              "seconds", "ms_per_step", "median_ms_per_step", "p90_ms_per_step", "gflop_per_image", "gflops", "peak_gflops",
              "peak_fraction", "launches_per_step", "kernels", "tuned", "tuning",
              "device_memory_bytes"):
        assert k in r, (mode, k)
    assert r["mode"] == mode and r["batch"] == 2 and r["iterations"] == 1
    assert r["images_per_s"] > 0 and r["seconds"] > 0
    assert math.isclose(r["ms_per_step"], 1000 * r["batch"] / r["images_per_s"], rel_tol=1e-6)
    # one step: its time is the median and the 90th percentile, and (with the loop around it)
    # at most the mean
    assert r["median_ms_per_step"] == r["p90_ms_per_step"] > 0, r
    assert r["median_ms_per_step"] <= r["ms_per_step"] * (1 + 1e-9), r
    # Counted work: 2 flops per MAC forward; training adds weight gradients and input gradients
    # (none for the stem).
    want = 2 * macs if mode == "infer" else 6 * macs - 2 * stem
    assert math.isclose(r["gflop_per_image"], want / 1e9, rel_tol=1e-6), (r["gflop_per_image"], want)
    assert math.isclose(r["gflops"], r["gflop_per_image"] * r["images_per_s"], rel_tol=1e-6)
    assert r["peak_gflops"] is not None and r["peak_gflops"] > 0, r["peak_gflops"]
    assert math.isclose(r["peak_fraction"], r["gflops"] / r["peak_gflops"], rel_tol=1e-6)
    assert isinstance(r["tuned"], bool)
    assert r["launches_per_step"] >= len(summary["layers"]), r["launches_per_step"]
    assert r["device_memory_bytes"] > 0, r["device_memory_bytes"]
    names = [l["name"] for l in r["layers"]]
    for l in r["layers"]:
        assert set(l) >= {"name", "ms"} and l["ms"] >= 0, l
    for l in summary["layers"]:
        assert l["name"] in names, (mode, l["name"])
        if mode == "train":
            assert l["name"] + ".bwd" in names, (mode, l["name"])
print("ok  bench --json keys and values (infer, train)")
PY

# Several steps: the median and the 90th percentile of their times, in order (the slowest
# step's time bounds both; their sum is the timed total).
"$MBN" bench --alpha 0.25 --resolution 32 --num-classes 10 --batch-size 2 --iterations 7 --json \
    >"$tmp/seven.json"
python3 - "$tmp/seven.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"][0]
assert r["iterations"] == 7, r
m, p90, mean = r["median_ms_per_step"], r["p90_ms_per_step"], r["ms_per_step"]
assert 0 < m <= p90 <= 7 * mean, r
PY
echo "ok   median and p90 step times"

# The report: well-formed XML (XHTML), nothing fetched from anywhere, one bar per layer.
check_report() { # html json n_results
    python3 - "$@" <<'PY'
import json, re, sys
import xml.etree.ElementTree as ET
html, js, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
text = open(html, encoding="utf-8").read()
root = ET.fromstring(text)  # raises on malformed markup
ns = {"h": "http://www.w3.org/1999/xhtml", "s": "http://www.w3.org/2000/svg"}
for bad in ("<script", "<link", "<img", "<iframe", "url(", "@import", "src="):
    assert bad not in text, bad
for m in re.finditer(r'(?:href|src)="([^"]*)"', text):
    raise AssertionError("external reference " + m.group(1))
assert re.findall(r'https?://[^"]*', text) == ["http://www.w3.org/1999/xhtml"] + \
    ["http://www.w3.org/2000/svg"] * len(root.findall(".//s:svg", ns)), "only XML namespaces"
results = json.load(open(js))["results"]
assert len(results) == n
rows = root.findall(".//h:table[@class='summary']/h:tbody/h:tr", ns)
assert len(rows) == n, len(rows)
charts = root.findall(".//s:svg[@class='layers']", ns)
assert len(charts) == n, len(charts)
for r, row, chart in zip(results, rows, charts):
    cells = ["".join(c.itertext()) for c in row.findall("h:td", ns)]
    assert r["device"] in cells[0] and cells[1] == r["mode"] and cells[2] == str(r["batch"]), cells
    assert cells[10] in ("untuned", r["tuning"]), cells
    assert cells[9] == "%.1f MiB" % (r["device_memory_bytes"] / 1048576), cells
    assert cells[5] == "%.2f" % r["median_ms_per_step"], cells
    bars = {g.get("data-layer"): g for g in chart.findall("s:g[@class='bar']", ns)}
    layers = [l["name"] for l in r["layers"] if not l["name"].endswith(".bwd")]
    assert sorted(bars) == sorted(layers), (sorted(bars), sorted(layers))
    for l in r["layers"]:
        base = l["name"][:-4] if l["name"].endswith(".bwd") else l["name"]
        cls = "bwd" if l["name"].endswith(".bwd") else "fwd"
        rect = bars[base].find(f"s:rect[@class='{cls}']", ns)
        if cls == "fwd" or l["ms"] > 0:
            assert rect is not None, (l["name"], cls)
            assert float(rect.get("width")) >= 0
print(f"ok  {html}: well-formed, self-contained, {n} result(s), a bar per layer")
PY
}
check_report "$tmp/infer.html" "$tmp/infer.json" 1
check_report "$tmp/train.html" "$tmp/train.json" 1
# Several devices on one page ("0,0" runs the same device twice: works on any machine).
"$MBN" bench --device 0,0 "${small[@]}" --json --report "$tmp/two.html" >"$tmp/two.json"
check_report "$tmp/two.html" "$tmp/two.json" 2
grep -q 'class="throughput"' "$tmp/two.html"

# The page says where it went, and its per-layer chart follows the network's order: at 224 a CPU
# runs depthwise and pointwise layers as one kernel ("dw2+pw2"), whose bar takes dw2's place.
"$MBN" bench --alpha 0.25 --resolution 224 --num-classes 10 --batch-size 1 --iterations 1 --json \
    --report "$tmp/r224.html" > "$tmp/r224.json" 2> "$tmp/r224.err"
grep -qxF "mbn: wrote $tmp/r224.html (1 device)" "$tmp/r224.err" ||
    { echo "FAIL: bench --report does not say it wrote the page:"; cat "$tmp/r224.err"; exit 1; }
python3 - "$tmp/r224.html" "$tmp/summary.json" <<'PY'
import json, sys
import xml.etree.ElementTree as ET
ns = {"s": "http://www.w3.org/2000/svg"}
chart = ET.parse(sys.argv[1]).getroot().find(".//s:svg[@class='layers']", ns)
bars = [g.get("data-layer") for g in chart.findall("s:g[@class='bar']", ns)]
order = [l["name"] for l in json.load(open(sys.argv[2]))["layers"]]
pos = [order.index(b.split("+")[0]) for b in bars]
assert pos == sorted(pos) and len(pos) == len(set(pos)), bars
covered = {part for b in bars for part in b.split("+")}
assert covered == set(order), (sorted(set(order) - covered), bars)
print("ok  the report's bars in network order:", " ".join(bars))
PY

# A report path in a folder that does not exist is a usage error (status 2) found before the
# benchmark, naming it; nothing is left behind.
set +e
err=$("$MBN" bench "${small[@]}" --report "$tmp/no/such/dir/r.html" 2>&1 >/dev/null)
status=$?
set -e
[ "$status" = 2 ] && [[ "$(printf '%s\n' "$err" | head -1)" == "mbn: error: --report $tmp/no/such/dir/r.html: no such folder"* ]] || {
    echo "FAIL --report in a missing folder: status $status: $err"
    exit 1
}
[ ! -e "$tmp/no" ]
echo "ok  --report in a missing folder fails at once with status 2 naming it"

# The FMA-peak cache: one file per device; a valid one is used as is.
files=("$MBN_CACHE_DIR"/peak/*.txt)
[ "${#files[@]}" = 1 ] || { echo "FAIL expected one peak cache file: ${files[*]}"; exit 1; }
cache=${files[0]}
sed -i 's/^gflops .*/gflops 12345/' "$cache"
peak() { "$MBN" bench "${small[@]}" --json 2>"$tmp/err" | python3 -c "import json,sys; print(json.load(sys.stdin)['results'][0]['peak_gflops'])"; }
got=$(peak)
[ "$got" = 12345 ] && [ ! -s "$tmp/err" ] || { echo "FAIL cached peak not used: $got $(cat "$tmp/err")"; exit 1; }
echo "ok  a valid peak cache file is used"
# --measure-peak reports a fresh figure; the file keeps the best one.
got=$("$MBN" bench "${small[@]}" --measure-peak --json | python3 -c "import json,sys; print(json.load(sys.stdin)['results'][0]['peak_gflops'])")
[ "$got" != 12345 ] && grep -q "^gflops 12345$" "$cache" ||
    { echo "FAIL --measure-peak: reported $got, file: $(cat "$cache")"; exit 1; }
echo "ok  --measure-peak reports a fresh figure, the cache keeps the best"
# A cached peak below what a workload reaches (measured on a busy machine) is measured again.
sed -i 's/^gflops .*/gflops 0.5/' "$cache"
got=$(peak)
python3 -c "import sys; sys.exit(0 if $got > 0.5 else 1)" && ! grep -q "^gflops 0.5$" "$cache" ||
    { echo "FAIL implausible cached peak kept: $got"; exit 1; }
echo "ok  a cached peak below the achieved rate is measured again ($got GFLOP/s)"
# Damaged (truncated, flipped key, garbage value) or foreign (another device's key): one
# warning, measured again, and the file is rewritten valid.
good=$(cat "$cache")
damage() { # description, then a command that damages $cache
    local what=$1
    shift
    printf '%s\n' "$good" >"$cache"
    "$@"
    got=$(peak)
    n=$(grep -c "warning: ignoring damaged or foreign FMA-peak cache file" "$tmp/err" || true)
    if [ "$n" != 1 ] || [ "$(wc -l <"$tmp/err")" != 1 ] ||
        ! python3 -c "import sys; sys.exit(0 if float('$got') > 0 else 1)"; then
        echo "FAIL $what: peak $got, stderr: $(cat "$tmp/err")"
        exit 1
    fi
    "$MBN" bench "${small[@]}" --json >/dev/null 2>"$tmp/err2"
    [ ! -s "$tmp/err2" ] || { echo "FAIL $what: not rewritten: $(cat "$tmp/err2")"; exit 1; }
    echo "ok  $what peak cache: one warning, measured again, rewritten"
}
damage truncated truncate -s 20 "$cache"
damage empty truncate -s 0 "$cache"
damage "bit-flipped key" sed -i 's/^key \(.\)/key X/' "$cache"
damage foreign sed -i 's/^key .*/key 0123456789abcdef0123456789abcdef/' "$cache"
damage "negative value" sed -i 's/^gflops .*/gflops -3/' "$cache"
damage "trailing garbage" sh -c "echo junk >>'$cache'"
