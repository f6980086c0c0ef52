#!/usr/bin/env bash
# Prepare the "real program" input set for benches/compare.sh.
#
# Builds benches/real (a small binary depending on criterion, regex and
# serde_json) in the dev profile with full debuginfo, asks rustc for the exact
# linker command line of the final binary (--print link-args, -C save-temps so
# the crate's own codegen-unit objects survive), and copies every object that
# command line names -- the crate's own .o files plus every member object of
# every .rlib, including the sysroot's std/core/alloc/compiler_builtins -- to
#   OUT/obj/rN.o   (short names, in link-line order)
#   OUT/objs.txt   (one path per line, relative to OUT)
#   OUT/manifest.json
# A real link pulls only the archive members it needs; here every member is
# given to `-r`, so the set is "everything rustc offered the linker".
#
# Usage: benches/real/prepare.sh [OUT]   (default: target/bench-inputs/real)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=${1:-$root/target/bench-inputs/real}
build=$root/target/bench-inputs/real-build

if [[ -f $out/manifest.json && -f $out/objs.txt ]]; then
    echo "$out: up to date ($(wc -l <"$out/objs.txt") objects; delete it to rebuild)"
    exit 0
fi
command -v cargo >/dev/null || { echo "prepare.sh: cargo not found" >&2; exit 1; }
command -v ar >/dev/null || { echo "prepare.sh: ar (binutils) not found" >&2; exit 1; }

start=$(date +%s.%N)
cargo build --quiet --manifest-path "$here/Cargo.toml" --target-dir "$build"
# Force the final crate to be rebuilt so rustc prints its link line.
touch "$here/src/main.rs"
args=$(cargo rustc --quiet --manifest-path "$here/Cargo.toml" --target-dir "$build" \
    -- --print link-args -C save-temps)

rm -rf "$out"
mkdir -p "$out/obj"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0
: >"$out/objs.txt"
# The printed line quotes each argument: "cc" "-m64" "/path/x.o" ...
while IFS= read -r arg; do
    case $arg in
    *.o)
        [[ -f $arg ]] || continue
        cp "$arg" "$out/obj/r$n.o"
        echo "obj/r$n.o" >>"$out/objs.txt"
        n=$((n + 1))
        ;;
    *.rlib)
        [[ -f $arg ]] || continue
        rm -rf "$tmp/x" && mkdir "$tmp/x"
        (cd "$tmp/x" && ar x "$arg")
        # archive order, objects only (skip lib.rmeta)
        while IFS= read -r m; do
            [[ $m == *.o && -f $tmp/x/$m ]] || continue
            mv "$tmp/x/$m" "$out/obj/r$n.o"
            echo "obj/r$n.o" >>"$out/objs.txt"
            n=$((n + 1))
        done < <(ar t "$arg")
        ;;
    esac
done < <(printf '%s\n' "$args" | grep -o '"[^"]*"' | tr -d '"')

python3 "$here/../gen/gen.py" --summarize "$out" --since "$start"
