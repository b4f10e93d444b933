#!/usr/bin/env bash
# mbn infer's class names: --labels with one line per class names the classes; --labels with the
# wrong line count or a missing file is a usage error (exit 2) naming --labels, with no
# "printing class numbers" warning before it; labels.txt beside the checkpoint that does not
# match gives a warning and class numbers (exit 0). Several images: all paths checked first,
# undecodable ones skipped with a warning and exit 1. The model is the 10-class timm fixture.
set -uo pipefail
MBN=${MBN:-build/mbn}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail=0
img=tests/fuzz/corpus_decode/rgb444.jpg
cp tests/fixtures/timm_mbv1_025.safetensors "$T/w.safetensors"
run=("$MBN" infer --checkpoint "$T/w.safetensors" --resolution 32 --top-k 3)
seq 0 9 | sed 's/^/name/' > "$T/ten.txt"
seq 0 2 | sed 's/^/name/' > "$T/three.txt"

check() { # name want_status stdout_pattern stderr_pattern stderr_absent args...
    local name=$1 want=$2 outpat=$3 errpat=$4 absent=$5
    shift 5
    local out err status
    out=$("$@" 2> "$T/err")
    status=$?
    err=$(cat "$T/err")
    if [ "$status" != "$want" ] || [[ "$out" != *"$outpat"* ]] || [[ "$err" != *"$errpat"* ]] ||
        { [ -n "$absent" ] && [[ "$err" == *"$absent"* ]]; }; then
        echo "FAIL $name: status $status (want $want), stdout: $out, stderr: $err"
        fail=1
    else
        echo "ok   $name: status $status ${err:+, stderr: $err}"
    fi
}

check "--labels with 10 names" 0 "name" "" "" "${run[@]}" --labels "$T/ten.txt" "$img"
check "--labels with 3 names" 2 "" \
    "mbn: error: --labels $T/three.txt: 3 names, but the model has 10 classes" \
    "printing class numbers" "${run[@]}" --labels "$T/three.txt" "$img"
check "--labels missing" 2 "" "mbn: error: --labels $T/missing.txt: no such file" \
    "printing class numbers" \
    "${run[@]}" --labels "$T/missing.txt" "$img"
# The --json document is not printed on a labels error.
out=$("${run[@]}" --json --labels "$T/three.txt" "$img" 2>/dev/null)
[ -z "$out" ] || { echo "FAIL: stdout on a labels error: $out"; fail=1; }
# labels.txt beside the checkpoint: used when it matches, a warning and numbers when not.
cp "$T/ten.txt" "$T/labels.txt"
check "labels.txt beside, 10 names" 0 "name" "" "warning" "${run[@]}" "$img"
cp "$T/three.txt" "$T/labels.txt"
check "labels.txt beside, 3 names" 0 "(class " "has 3 names but the model has 10 classes" "error" \
    "${run[@]}" "$img"
# Several images: every path is checked before the model is opened (one usage error naming
# each missing one); an image that cannot be decoded is named in a warning and skipped, the
# others are printed, and the command exits 1 at the end.
printf 'not an image' > "$T/broken.png"
check "a missing and a folder IMAGE" 2 "" \
    "mbn: error: 2 of 3 IMAGE paths are not files: $T/gone.png: no such file; $T: a folder" \
    "compiling" "${run[@]}" "$img" "$T/gone.png" "$T"
check "an undecodable IMAGE" 1 "$img" "mbn: error: 1 of 3 images could not be read and was skipped" \
    "" "${run[@]}" "$img" "$T/broken.png" "$img"
grep -q "warning: .*$T/broken.png" "$T/err" || { echo "FAIL: no warning naming the file"; fail=1; }
out=$("${run[@]}" --json "$img" "$T/broken.png" 2>/dev/null)
status=$?
python3 -c "
import json, sys
d = json.loads(sys.argv[1])
assert [r['image'] for r in d['results']] == [sys.argv[2]] and d['skipped'] == 1, d
" "$out" "$img" && [ $status = 1 ] || { echo "FAIL --json with a skipped image: $status $out"; fail=1; }
exit $fail
