#!/usr/bin/env bash
# Help that matches what the commands do. For every command `mbn help` lists:
# - `mbn CMD --help` and `mbn help CMD` print the same help (status 0), no line wider than 80;
# - every flag the help names (usage line and flag list) is accepted (`--flag=1 --help` exits 0);
# - every flag some command lists but CMD does not is refused by CMD (status 2, "unknown flag");
# and the defaults the help states are the ones the commands use where a user could be misled:
# train's class count comes from the data, eval/infer/export read the model's configuration from
# the file, bench states its mode. `mbn --version` names the build's options.
set -uo pipefail
MBN=${MBN:-build/mbn}
fail=0
bad() {
    echo "FAIL: $*"
    fail=1
}

mapfile -t commands < <("$MBN" help | sed -n 's/^  \([a-z][a-z]*\)  .*/\1/p')
[ "${#commands[@]}" -ge 9 ] || bad "mbn help lists ${#commands[@]} commands: ${commands[*]}"

declare -A listed
all_flags=()
for cmd in "${commands[@]}"; do
    help=$("$MBN" "$cmd" --help) || bad "mbn $cmd --help exited $?"
    [ "$help" = "$("$MBN" help "$cmd")" ] || bad "mbn help $cmd differs from mbn $cmd --help"
    [[ "$help" == "usage: mbn $cmd"* ]] || bad "mbn $cmd --help does not start with its usage"
    wide=$(printf '%s\n' "$help" | awk 'length($0) > 80 { print length($0) ": " $0 }')
    [ -z "$wide" ] || bad "mbn $cmd --help has lines over 80 columns:"$'\n'"$wide"
    # The flags named in the usage lines (up to the first empty line) and in the flag list.
    flags=$(printf '%s\n' "$help" | awk '/^$/ { u = 1 } !u || /^  --/ { print $0 }' |
        sed 's/^\(  --[a-z0-9-]*\).*/\1/' | grep -o -- '--[a-z][a-z0-9-]*' | sort -u | tr '\n' ' ')
    listed[$cmd]=" $flags"
    all_flags+=($flags)
    for f in $flags; do
        [ "$f" = --help ] && continue
        out=$("$MBN" "$cmd" "$f=1" --help 2>&1 >/dev/null)
        [ $? = 0 ] || bad "mbn $cmd lists $f but refuses it: $out"
    done
done
mapfile -t all_flags < <(printf '%s\n' "${all_flags[@]}" | sort -u)
for cmd in "${commands[@]}"; do
    for f in "${all_flags[@]}"; do
        [[ "${listed[$cmd]}" == *" $f "* ]] && continue
        out=$("$MBN" "$cmd" "$f=1" --help 2>&1 >/dev/null)
        status=$?
        [ $status = 2 ] && [[ "$out" == "mbn: error: unknown flag $f"* ]] ||
            bad "mbn $cmd accepts $f without listing it (status $status): $out"
    done
done
echo "ok   ${#commands[@]} commands: help within 80 columns, ${#all_flags[@]} flags, each listed where accepted"

# Flags a command does not use are not there to be ignored.
for f in --device --json --resolution; do
    [[ "${listed[plot]}" != *" $f "* ]] || bad "plot lists $f"
done
[[ "${listed[summary]}" != *" --device "* ]] || bad "summary lists --device"
[[ "${listed[export]}" != *" --device "* ]] || bad "export lists --device"
out=$("$MBN" summary --device nosuch 2>&1)
[ $? = 2 ] && [[ "$out" == "mbn: error: unknown flag --device"* ]] || bad "summary --device: $out"

# Defaults as they are.
line() { # a flag's entry in the help, its continuation lines joined
    "$MBN" "$1" --help | awk -v f="$2" '$1 == f && /^  --/ { on = 1; print; next }
        on && /^    / { print; next } { on = 0 }' | tr -s ' \n' ' '
}
[[ "$(line train --num-classes)" == *"(default: the data's)"* ]] ||
    bad "train --num-classes: $(line train --num-classes)"
for cmd in eval infer export; do
    [[ "$(line "$cmd" --alpha)" == *"check: the model's width multiplier must be A"* &&
        "$(line "$cmd" --alpha)" != *default* ]] || bad "$cmd --alpha: $(line "$cmd" --alpha)"
    [[ "$(line "$cmd" --num-classes)" == *"check: the model must have K classes"* &&
        "$(line "$cmd" --num-classes)" != *default* ]] ||
        bad "$cmd --num-classes: $(line "$cmd" --num-classes)"
    [[ "$(line "$cmd" --resolution)" == *"(default: the model's)"* ]] ||
        bad "$cmd --resolution: $(line "$cmd" --resolution)"
done
[[ "$(line bench --mode)" == *"(default infer)"* ]] || bad "bench --mode: $(line bench --mode)"
[[ "$(line tune --mode)" == *"(default train)"* ]] || bad "tune --mode: $(line tune --mode)"
echo "ok   unused flags refused; stated defaults are the ones used"

# mbn --version: the version and the build's options.
ver=$("$MBN" --version) || bad "mbn --version exited $?"
want=$(sed -n 's/^#define MBN_VERSION_\(MAJOR\|MINOR\|PATCH\) \([0-9]*\)$/\2/p' include/mbn.h | paste -sd.)
[ "$(printf '%s\n' "$ver" | head -1)" = "mbn $want" ] || bad "version line: $ver (want mbn $want)"
for key in "MPI: " "ONNX export: yes (opset 13" "CLBlast: "; do
    grep -q "^$key" <<< "$ver" || bad "mbn --version has no '$key': $ver"
done
grep -qE "^CLBlast: [0-9]+\.[0-9]+\.[0-9]+$" <<< "$ver" || bad "CLBlast version: $ver"
# The MPI line agrees with what train --help says about the build.
if "$MBN" train --help | tr -s ' \n' ' ' | grep -q "built with MPI"; then
    grep -q "^MPI: yes" <<< "$ver" || bad "train says MPI, --version: $ver"
else
    grep -q "^MPI: no" <<< "$ver" || bad "train says no MPI, --version: $ver"
fi
out=$("$MBN" help nosuch 2>&1)
[ $? = 2 ] && [[ "$out" == 'mbn: error: unknown command "nosuch"'* ]] || bad "mbn help nosuch: $out"
echo "ok   mbn --version: $(printf '%s\n' "$ver" | tr '\n' ';')"
exit $fail
