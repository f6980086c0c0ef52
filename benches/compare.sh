#!/usr/bin/env bash
# Side-by-side `-r` (relocatable link) benchmark: rivet vs GNU ld (bfd), gold,
# lld and mold on the same inputs, in one hyperfine run per input set.
#
# Usage: benches/compare.sh [options] [SET...]
#   SET      small | medium | large   synthetic sets from benches/gen/gen.py
#            tiny                     a 20-object set for smoke-testing the script
#            real                     objects of a Rust program (benches/real/prepare.sh)
#            DIR                      any directory holding objs.txt (paths relative to DIR)
#            default: medium
#   --runs N        exact number of timed runs per linker (default: hyperfine's
#                   choice, at least --min-runs)
#   --min-runs N    default 5
#   --linkers LIST  comma-separated subset of: rivet,ld.bfd,ld.gold,ld.lld,mold
#   --no-install    do not apt-get missing tools
#   --interleave    one run of every linker per round, order rotated each
#                   round, --runs (or --min-runs) rounds after a warm-up round:
#                   fairer when other work shares the machine
#   --report        only print the tables of earlier runs (target/bench-out/SET)
#   -h, --help
# Environment:
#   RIVET    rivet binary (default: target/release/rivet; built if it is the
#            default and missing)
#   THREADS  worker threads for the linkers that take a count (default 2)
#   RIVET_ARGS  extra rivet arguments (default: --threads=$THREADS); set it
#            empty to validate the script with a stand-in, e.g.
#            RIVET=/usr/bin/ld.bfd RIVET_ARGS= benches/compare.sh tiny
#
# Outputs go to target/bench-out/SET/: LINKER.o, hyperfine.json, hyperfine.md,
# table.txt. The printed table has mean ± σ, ratio to rivet (>1: rivet is
# faster), peak RSS of one separate run under /usr/bin/time -f %M, and the size
# and relocation count of each output as a cross-check.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
threads=${THREADS:-2}
runs=
min_runs=5
want=rivet,ld.bfd,ld.gold,ld.lld,mold
install=1
report_only=0
interleave=0
sets=()

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }
while (($#)); do
    case $1 in
    --runs) runs=$2; shift 2 ;;
    --runs=*) runs=${1#*=}; shift ;;
    --min-runs) min_runs=$2; shift 2 ;;
    --min-runs=*) min_runs=${1#*=}; shift ;;
    --linkers) want=$2; shift 2 ;;
    --linkers=*) want=${1#*=}; shift ;;
    --no-install) install=0; shift ;;
    --report) report_only=1; shift ;;
    --interleave) interleave=1; shift ;;
    -h | --help) usage; exit 0 ;;
    -*) echo "compare.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
    *) sets+=("$1"); shift ;;
    esac
done
((${#sets[@]})) || sets=(medium)

# ---- report ------------------------------------------------------------------
report() { # OUTDIR LINKER... : table from OUTDIR/hyperfine.json and the outputs
    python3 - "$1" "$here/gen" "${@:2}" <<'EOF'
import json, os, sys
out, gen_dir, names = sys.argv[1], sys.argv[2], sys.argv[3:]
sys.path.insert(0, gen_dir)
from gen import rela_count
res = {r["command"]: r for r in json.load(open(os.path.join(out, "hyperfine.json")))["results"]}
base = "rivet" if "rivet" in res else names[0]
b = res[base]["mean"]
print(f"{'linker':<9} {'mean [s]':>9} {'± σ':>7} {'min':>7} {'runs':>4} {'vs ' + base:>10} {'RSS [MB]':>9} {'out [MB]':>9} {'out relocs':>11}")
for n in names:
    r = res[n]
    try:
        rss = f"{int(open(os.path.join(out, n + '.rss')).read().split()[-1]) / 1024:.0f}"
    except (OSError, ValueError, IndexError):
        rss = "-"
    try:
        relocs, _, size, _ = rela_count(os.path.join(out, n + ".o"))
        o_mb, o_rel = f"{size / 1e6:.1f}", str(relocs)
    except Exception:  # a broken output must not hide the timings
        o_mb, o_rel = "-", "-"
    print(f"{n:<9} {r['mean']:>9.3f} {r['stddev'] or 0:>7.3f} {r['min']:>7.3f} {len(r['times']):>4} "
          f"{r['mean'] / b:>9.2f}x {rss:>9} {o_mb:>9} {o_rel:>11}")
print(f"(ratio = linker mean / {base} mean; RSS = peak resident set of one run)")
EOF
}

if ((report_only)); then
    for set in "${sets[@]}"; do
        out=$root/target/bench-out/$(basename "$set")
        [[ -f $out/hyperfine.json ]] || { echo "compare.sh: no results in $out" >&2; continue; }
        mapfile -t ran < <(python3 -c 'import json,sys; [print(r["command"]) for r in json.load(open(sys.argv[1]))["results"]]' "$out/hyperfine.json")
        echo; echo "== $(basename "$out")"
        report "$out" "${ran[@]}" | tee "$out/table.txt"
    done
    exit 0
fi

# ---- tools -------------------------------------------------------------------
apt_install() {
    ((install)) || return 0
    [[ $(id -u) == 0 ]] || { echo "compare.sh: not root, cannot apt-get install $*" >&2; return 0; }
    echo "compare.sh: installing $* with apt-get" >&2
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@"; } >/dev/null 2>&1 ||
        echo "compare.sh: apt-get install $* failed" >&2
}
missing=()
command -v hyperfine >/dev/null || missing+=(hyperfine)
[[ -x /usr/bin/time ]] || missing+=(time)
command -v mold >/dev/null || missing+=(mold)
command -v ld.lld-19 >/dev/null || command -v ld.lld >/dev/null || missing+=(lld-19)
command -v ld.gold >/dev/null || command -v ld.bfd >/dev/null || missing+=(binutils)
((${#missing[@]} == 0)) || apt_install "${missing[@]}"
command -v hyperfine >/dev/null || { echo "compare.sh: hyperfine is required" >&2; exit 1; }
command -v python3 >/dev/null || { echo "compare.sh: python3 is required" >&2; exit 1; }
have_time=0
[[ -x /usr/bin/time ]] && have_time=1 || echo "compare.sh: /usr/bin/time missing: no RSS column" >&2

if [[ -z ${RIVET:-} ]]; then
    RIVET=$root/target/release/rivet
    if [[ ! -x $RIVET ]] && [[ ,$want, == *,rivet,* ]]; then
        echo "compare.sh: building rivet (cargo build --release)" >&2
        (cd "$root" && cargo build --release --quiet) || echo "compare.sh: rivet build failed" >&2
    fi
fi
lld=$(command -v ld.lld-19 || command -v ld.lld || true)

# name -> command prefix (without -o and inputs). Every linker that takes a
# thread count gets THREADS; ld.bfd is single-threaded.
declare -A prefix
order=()
add() { # name binary args...
    local name=$1 bin=$2; shift 2
    [[ ,$want, == *,$name,* ]] || return 0
    if [[ -z $bin ]] || ! command -v "$bin" >/dev/null; then
        echo "compare.sh: skipping $name: ${bin:-its binary} not found" >&2
        return 0
    fi
    bin=$(command -v "$bin")
    [[ $bin == /* ]] || bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")
    prefix[$name]="$bin $*"
    order+=("$name")
}
# shellcheck disable=SC2086  # RIVET_ARGS is a word list
add rivet "$RIVET" -r ${RIVET_ARGS-"--threads=$threads"}
add ld.bfd "$(command -v ld.bfd || true)" -r
add ld.gold "$(command -v ld.gold || true)" -r --threads --thread-count="$threads"
add ld.lld "$lld" -r --threads="$threads"
add mold "$(command -v mold || true)" -r --threads="$threads"
((${#order[@]})) || { echo "compare.sh: no linker to run" >&2; exit 1; }

# ---- inputs ------------------------------------------------------------------
prepare() { # SET -> prints the input directory
    case $1 in
    tiny | small | medium | large)
        python3 "$here/gen/gen.py" --preset "$1" --out "$root/target/bench-inputs/$1" >&2
        echo "$root/target/bench-inputs/$1" ;;
    real)
        "$here/real/prepare.sh" "$root/target/bench-inputs/real" >&2
        echo "$root/target/bench-inputs/real" ;;
    *)
        [[ -f $1/objs.txt ]] || { echo "compare.sh: $1: no objs.txt" >&2; return 1; }
        (cd "$1" && pwd) ;;
    esac
}

# ---- run ---------------------------------------------------------------------
for set in "${sets[@]}"; do
    dir=$(prepare "$set")
    name=$(basename "$dir")
    out=$root/target/bench-out/$name
    mkdir -p "$out"
    if [[ $dir == *[[:space:]]* || $out == *[[:space:]]* ]]; then
        echo "compare.sh: paths with spaces are not supported" >&2; exit 1
    fi
    cd "$dir"
    objs=$(tr '\n' ' ' <objs.txt)
    # One argument string must stay under the kernel's 128 KiB per-argument
    # limit (hyperfine gets each command as one argument): fall back to a
    # response file, the same for every linker.
    if ((${#objs} > 100000)); then
        tr '\n' ' ' <objs.txt >"$out/objs.rsp"
        objs="@$out/objs.rsp"
    fi
    echo
    echo "== $name: $(python3 -c "import json;m=json.load(open('manifest.json'));print(f\"{m['objects']} objects, {m['relocations']} relocations, {m['bytes']/1e6:.0f} MB\")" 2>/dev/null || echo "$(wc -l <objs.txt) objects")  (threads=$threads)"

    # One plain run each: checks the linker works, measures peak RSS.
    hf=()
    ok=()
    for l in "${order[@]}"; do
        cmd="${prefix[$l]} -o $out/$l.o $objs"
        rm -f "$out/$l.o" "$out/$l.rss"
        # shellcheck disable=SC2086  # word splitting of cmd is intended
        if ((have_time)); then
            /usr/bin/time -f %M -o "$out/$l.rss" $cmd >/dev/null 2>"$out/$l.err" && rc=0 || rc=$?
        else
            $cmd >/dev/null 2>"$out/$l.err" && rc=0 || rc=$?
        fi
        if ((rc != 0)); then
            echo "compare.sh: $l failed (exit $rc), left out; first lines of its stderr:" >&2
            grep -v '^Command exited' "$out/$l.err" | head -5 | sed 's/^/    /' >&2
            continue
        fi
        ok+=("$l")
        hf+=(-n "$l" "$cmd")
    done
    ((${#ok[@]})) || { echo "compare.sh: every linker failed on $name" >&2; continue; }

    if ((interleave)); then
        # One hyperfine call per round, one run of each linker per call, the
        # order rotated every round, so load drift hits every linker alike.
        # The rounds are merged into hyperfine.json afterwards.
        rounds=${runs:-$min_runs}
        n=${#ok[@]}
        rm -f "$out"/round.*.json "$out/hyperfine.md"
        : >"$out/hyperfine.log"
        failed=0
        for ((r = 0; r <= rounds; r++)); do # round 0 is the warm-up
            rot=()
            for ((k = 0; k < n; k++)); do
                rot+=("${hf[@]:$((3 * ((k + r) % n))):3}")
            done
            hyperfine -N --runs 1 --style basic --export-json "$out/round.$r.json" \
                "${rot[@]}" >>"$out/hyperfine.log" 2>&1 || { failed=1; break; }
        done
        if ((failed)); then
            cat "$out/hyperfine.log" >&2; echo "compare.sh: hyperfine failed on $name" >&2; continue
        fi
        rm -f "$out/round.0.json"
        python3 - "$out" <<'EOF2'
import glob, json, os, statistics, sys
out = sys.argv[1]
times = {}
for f in sorted(glob.glob(os.path.join(out, "round.*.json"))):
    for r in json.load(open(f))["results"]:
        times.setdefault(r["command"], []).extend(r["times"])
results = [{"command": c, "mean": statistics.fmean(t),
            "stddev": statistics.stdev(t) if len(t) > 1 else None,
            "median": statistics.median(t), "min": min(t), "max": max(t), "times": t}
           for c, t in times.items()]
json.dump({"results": results, "interleaved": True},
          open(os.path.join(out, "hyperfine.json"), "w"), indent=2)
EOF2
    else
        hopts=(-N --warmup 1 --style basic --export-json "$out/hyperfine.json"
            --export-markdown "$out/hyperfine.md")
        if [[ -n $runs ]]; then hopts+=(--runs "$runs"); else hopts+=(--min-runs "$min_runs"); fi
        hyperfine "${hopts[@]}" "${hf[@]}" >"$out/hyperfine.log" 2>&1 ||
            { cat "$out/hyperfine.log" >&2; echo "compare.sh: hyperfine failed on $name" >&2; continue; }
    fi

    report "$out" "${ok[@]}" | tee "$out/table.txt"
done
