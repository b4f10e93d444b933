#!/usr/bin/env bash
# mbn plot: two runs' logs (synthetic, with known rows; one long enough to be grouped, one
# resumed from an earlier step) become one well-formed, self-contained SVG with one polyline per
# run and series holding the expected number of points; the default --out is curves.svg in the
# current folder; a missing folder or log exits 2 naming it, a malformed line exits 1 naming the
# file and line, and a failed run leaves no SVG behind.
set -uo pipefail
MBN=$(realpath "${MBN:-build/mbn}")
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail=0
mkdir -p "$T/a" "$T/b" "$T/empty" "$T/bad"
python3 - "$T" <<'PY'
import sys
t = sys.argv[1]
hdr = "kind,epoch,step,loss,lr,images_per_s,top1,top5\n"
# a: 3 epochs of 10 steps, evaluated after each; resumed at step 15 after a crash at step 22:
# the rows logged for steps 16..22 and the evaluation of epoch 2 before the crash are replaced
# by the resumed run's.
rows = [hdr]
for s in range(1, 23):
    rows.append("train,%d,%d,%.6f,%.8g,%.2f,,\n" % ((s - 1) // 10 + 1, s, 9.0, 0.1, 100.0))
    if s % 10 == 0:
        rows.append("eval,%d,%d,0.9,,,0.5,0.8\n" % (s // 10, s))
for s in range(16, 31):
    rows.append("train,%d,%d,%.6f,%.8g,%.2f,,\n" % ((s - 1) // 10 + 1, s, 2.0 - s / 20, 0.1, 100.0))
    if s % 10 == 0 and s > 10:
        rows.append("eval,%d,%d,%.6f,,,%.6f,%.6f\n" % (s // 10, s, 1.0 / s, 0.5 + s / 100, 0.9))
open(t + "/a/train_log.csv", "w").write("".join(rows))
# b: 2500 steps in one epoch (drawn as 834 means of 3 steps), one evaluation.
rows = [hdr] + ["train,1,%d,%.6f,%.8g,%.2f,,\n" % (s, 1.0, 0.05, 50.0) for s in range(1, 2501)]
rows.append("eval,1,2500,0.7,,,0.6,0.9\n")
open(t + "/b/train_log.csv", "w").write("".join(rows))
open(t + "/bad/train_log.csv", "w").write(hdr + "train,1,1,0.5,0.1,10.0,,\ntrain,1,2,oops,0.1,10,,\n")
PY

check_svg() { # file, then run:series:points ...
    python3 - "$@" <<'PY'
import sys, xml.etree.ElementTree as ET
path, want = sys.argv[1], sys.argv[2:]
text = open(path, encoding="utf-8").read()
root = ET.fromstring(text)  # well-formed XML or an exception
ns = "{http://www.w3.org/2000/svg}"
assert root.tag == ns + "svg", root.tag
# Self-contained: no scripts, images, style sheets, external references or web fonts.
for el in root.iter():
    assert el.tag.split("}")[1] not in ("script", "image", "style", "foreignObject", "use"), el.tag
    for k, v in el.attrib.items():
        assert "href" not in k, (el.tag, k)
assert "http" not in text.replace('xmlns="http://www.w3.org/2000/svg"', ""), "external link"
lines = {}
for p in root.iter(ns + "polyline"):
    pts = p.get("points").split()
    for xy in pts:
        x, y = map(float, xy.split(","))
        assert 0 <= x <= float(root.get("width")) and 0 <= y <= float(root.get("height")), xy
    assert len(pts) == int(p.get("data-points")), p.attrib
    key = "%s:%s" % (p.get("data-run"), p.get("data-series"))
    assert key not in lines, "two polylines for " + key
    lines[key] = len(pts)
expect = dict(w.rsplit(":", 1) for w in want)
got = {k: str(v) for k, v in lines.items()}
assert got == expect, "series and points:\n got  %s\n want %s" % (sorted(got.items()), sorted(expect.items()))
texts = " ".join("".join(t.itertext()) for t in root.iter(ns + "text"))
for word in ("Loss", "Learning rate", "top-1", "top-5", "step", "epoch", "accuracy (%)"):
    assert word in texts, word
print("ok   %s: %d series, well-formed, self-contained" % (path, len(lines)))
PY
}

# Two runs, explicit --out (folders as more values of --ckpt-dir).
if "$MBN" plot --ckpt-dir "$T/a" "$T/b/" --out "$T/two.svg" 2> "$T/err"; then
    check_svg "$T/two.svg" "$T/a:loss:30" "$T/a:lr:30" "$T/a:val_loss:3" "$T/a:top1:3" \
        "$T/a:top5:3" "$T/b:loss:834" "$T/b:lr:834" "$T/b:val_loss:1" "$T/b:top1:1" \
        "$T/b:top5:1" || fail=1
else
    echo "FAIL: plot of two runs: $(cat "$T/err")"; fail=1
fi
# Default --out: curves.svg in the current folder; a repeated --ckpt-dir works too.
(cd "$T" && "$MBN" plot --ckpt-dir a --ckpt-dir b 2>/dev/null) || { echo "FAIL: default out"; fail=1; }
[ -f "$T/curves.svg" ] && check_svg "$T/curves.svg" a:loss:30 a:lr:30 a:val_loss:3 a:top1:3 \
    a:top5:3 b:loss:834 b:lr:834 b:val_loss:1 b:top1:1 b:top5:1 || fail=1

# Evaluation rows without their step (0) are drawn at their epoch's last training step.
mkdir -p "$T/c"
printf 'kind,epoch,step,loss,lr,images_per_s,top1,top5\ntrain,1,1,2.0,0.1,10,,\ntrain,1,2,1.5,0.1,10,,\neval,1,0,1.2,,,0.5,0.9\ntrain,2,3,1.0,0.1,10,,\ntrain,2,4,0.9,0.1,10,,\neval,2,0,1.0,,,0.6,0.95\n' \
    > "$T/c/train_log.csv"
"$MBN" plot --ckpt-dir "$T/c" --out "$T/c.svg" 2>/dev/null && python3 - "$T/c.svg" <<'PY' || fail=1
import sys, xml.etree.ElementTree as ET
xs = {p.get("data-series"): [pt.split(",")[0] for pt in p.get("points").split()]
      for p in ET.parse(sys.argv[1]).getroot().iter("{http://www.w3.org/2000/svg}polyline")}
assert xs["val_loss"] == [xs["loss"][1], xs["loss"][3]], xs
print("ok   evaluations without a step sit at their epoch's last step")
PY

expect() { # status substring args...
    local want=$1 sub=$2
    shift 2
    local err status
    err=$("$MBN" plot "$@" 2>&1 >/dev/null)
    status=$?
    if [ "$status" != "$want" ] || [[ "$(printf '%s\n' "$err" | head -1)" != *"$sub"* ]]; then
        echo "FAIL: plot $* -> $status: $err (want $want and '$sub')"
        fail=1
    else
        echo "ok   plot $* -> $status: $(printf '%s\n' "$err" | head -1)"
    fi
}
expect 2 "mbn: error: --ckpt-dir $T/missing: no such folder" --ckpt-dir "$T/missing" --out "$T/x.svg"
expect 2 "mbn: error: --ckpt-dir $T/empty: $T/empty/train_log.csv: cannot open" \
    --ckpt-dir "$T/a" "$T/empty" --out "$T/x.svg"
expect 1 "mbn: error: $T/bad/train_log.csv:3: malformed train row" --ckpt-dir "$T/bad" --out "$T/x.svg"
expect 2 "--ckpt-dir is required" --out "$T/x.svg"
ls "$T"/x.svg* >/dev/null 2>&1 && { echo "FAIL: an SVG (or temporary file) left after errors"; fail=1; }
exit $fail
