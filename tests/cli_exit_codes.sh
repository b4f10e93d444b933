#!/usr/bin/env bash
# The one rule for errors (README, "Exit status"), command by command: status 2 when the command
# line is wrong (unknown flag, bad value, a path that does not exist or is of the wrong kind),
# found before any work starts: one "mbn: error:" line, then the usage line, no kernel
# compilation (each case runs on a fresh cache and must not print the first-run note) and no
# file written; status 1 when the run fails (a file whose content is unusable, an empty data
# folder): the last line is the "mbn: error:" line.
set -uo pipefail
MBN=${MBN:-build/mbn}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail=0
n=0

run() { # want_status substring args...: runs mbn on a fresh cache folder
    local want=$1 sub=$2
    shift 2
    n=$((n + 1))
    MBN_CACHE_DIR="$T/cache$n" "$MBN" "$@" > "$T/out" 2> "$T/err"
    local status=$? first last
    first=$(head -1 "$T/err")
    last=$(tail -1 "$T/err")
    local why=""
    [ "$status" = "$want" ] || why="status $status"
    if [ "$want" = 2 ]; then
        [[ "$first" == "mbn: error: "*"$sub"* ]] || why="$why; first line"
        [[ "$(sed -n 2p "$T/err")" == "usage: mbn $1"* ]] || why="$why; no usage line"
        ! grep -q "compiling kernels" "$T/err" || why="$why; work started"
    else
        [[ "$last" == "mbn: error: "*"$sub"* ]] || why="$why; last line"
    fi
    if [ -n "$why" ]; then
        echo "FAIL mbn $* ($why; want $want and '$sub'):"
        sed 's/^/    /' "$T/err"
        fail=1
    else
        echo "ok   $want mbn $*"
    fi
}

python3 tests/make_tiny_idx.py "$T/data" 64 32
mkdir -p "$T/empty" "$T/dir" "$T/run_empty"
echo "not a model" > "$T/text.ckpt"
echo "not a data set" > "$T/text.txt"
cp tests/fixtures/timm_mbv1_025.safetensors "$T/w.safetensors"
printf 'kind,epoch,step,loss,lr,images_per_s,top1,top5\n' > "$T/run_empty/train_log.csv"
img=tests/fuzz/corpus_decode/rgb.png
printf 'not an image' > "$T/broken.png"
m=(--checkpoint "$T/w.safetensors" --resolution 32)

run 2 "unknown flag --bogus" devices --bogus
run 2 'unexpected argument "extra"' devices extra

run 2 "--alpha 3: must be in" summary --alpha 3
run 2 "unknown flag --device" summary --device 0

run 2 "--data $T/nowhere: no such folder" train --data "$T/nowhere"
run 2 "--data $T/text.txt: not a folder" train --data "$T/text.txt"
run 2 "--init $T/nowhere.safetensors: no such file" train --data "$T/data" --init "$T/nowhere.safetensors"
run 2 "--init $T/dir: a folder" train --data "$T/data" --init "$T/dir"
run 2 "--resume $T/nowhere.ckpt: no such file" train --data "$T/data" --resume "$T/nowhere.ckpt"
run 2 "--ckpt-dir $T/text.txt: not a folder" train --data "$T/data" --ckpt-dir "$T/text.txt"
run 1 "no dataset found" train --data "$T/empty" --ckpt-dir "$T/r1"
run 1 "$T/text.ckpt" train --data "$T/data" --alpha 0.25 --resolution 32 --epochs 1 \
    --init "$T/text.ckpt" --ckpt-dir "$T/r2" --quiet

run 2 "--data $T/nowhere: no such folder" eval --data "$T/nowhere" "${m[@]}"
run 2 "--data $T/text.txt: not a folder" eval --data "$T/text.txt" "${m[@]}"
run 2 "--checkpoint $T/nowhere.ckpt: no such file" eval --data "$T/data" --checkpoint "$T/nowhere.ckpt"
run 2 "--checkpoint $T/dir: a folder" eval --data "$T/data" --checkpoint "$T/dir"
run 1 "$T/text.ckpt" eval --data "$T/data" --checkpoint "$T/text.ckpt"
run 1 "no dataset found" eval --data "$T/empty" "${m[@]}"

run 2 "--checkpoint $T/nowhere.ckpt: no such file" infer --checkpoint "$T/nowhere.ckpt" "$img"
run 2 "--checkpoint $T/dir: a folder" infer --checkpoint "$T/dir" "$img"
run 2 "--labels $T/nowhere.txt: no such file" infer "${m[@]}" --labels "$T/nowhere.txt" "$img"
run 2 "2 of 4 IMAGE paths are not files: $T/a.png: no such file; $T/dir: a folder" \
    infer "${m[@]}" "$img" "$T/a.png" "$T/dir" "$img"
run 1 "$T/text.ckpt" infer --checkpoint "$T/text.ckpt" "$img"
run 1 "1 of 2 images could not be read and was skipped" infer "${m[@]}" "$img" "$T/broken.png"

run 2 "--iterations 0: must be at least 1" bench --iterations 0
run 2 "--seconds 0: must be more than 0" bench --seconds 0
run 2 "--seconds -1: must be more than 0" bench --seconds -1
run 2 "--iterations and --seconds: give one" bench --iterations 1 --seconds 1
run 2 "--report $T/nowhere/r.html: no such folder" bench --iterations 1 --report "$T/nowhere/r.html"
run 2 "--report $T/dir: a folder" bench --iterations 1 --report "$T/dir"
run 2 "--device" bench --iterations 1 --device no-such-device
run 2 "--mode sideways: expected infer or train" bench --mode sideways

run 2 "--budget-minutes 0: expected minutes" tune --budget-minutes 0
run 2 "--device" tune --device no-such-device

run 2 "--checkpoint $T/nowhere.ckpt: no such file" export --checkpoint "$T/nowhere.ckpt" --out "$T/x.safetensors"
run 2 "--checkpoint $T/dir: a folder" export --checkpoint "$T/dir" --out "$T/x.safetensors"
run 2 "--out $T/nowhere/x.onnx: no such folder" export "${m[@]}" --out "$T/nowhere/x.onnx"
run 2 "--out $T/dir: a folder" export "${m[@]}" --out "$T/dir"
run 2 "--format safetensors contradicts --out $T/x.onnx" export "${m[@]}" --out "$T/x.onnx" --format safetensors
run 2 "--out $T/x.bin: name the file .safetensors or .onnx" export "${m[@]}" --out "$T/x.bin"
run 1 "$T/text.ckpt" export --checkpoint "$T/text.ckpt" --out "$T/x.safetensors"

run 2 "--ckpt-dir $T/nowhere: no such folder" plot --ckpt-dir "$T/nowhere" --out "$T/p.svg"
run 2 "--ckpt-dir $T/text.txt: not a folder" plot --ckpt-dir "$T/text.txt" --out "$T/p.svg"
run 2 "--out $T/p.png: the file name must end in .svg" plot --ckpt-dir "$T/run_empty" --out "$T/p.png"
run 2 "--ckpt-dir $T/dir" plot --ckpt-dir "$T/dir" --out "$T/p.svg"
run 1 "no training step logged yet" plot --ckpt-dir "$T/run_empty" --out "$T/p.svg"

# Nothing was written by any of the failures.
left=$(ls "$T" | grep -E '^(x\.|p\.|r\.html)' || true)
[ -z "$left" ] || { echo "FAIL: files left behind: $left"; fail=1; }
exit $fail
