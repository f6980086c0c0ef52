#!/usr/bin/env bash
# Side-by-side executable links: rivet vs GNU ld, gold, lld and mold, each
# given the same `ld` command line as a compiler driver would pass it.
#
# The default link is rivet's own debug build, static, through rustc and gcc
# (56 MB of output in December 2026, mostly debug info; --gc-sections,
# --build-id, libc.a with its .gnu.warning sections, SHF_MERGE .debug_str).
# The first run builds it into target/bench-inputs/selflink-build with a `-B`
# directory whose `ld` records its arguments (one per line, in
# target/bench-inputs/selflink/args.txt) and then runs GNU ld; rustc's
# `-C save-temps` keeps the objects that line names. About 50-90 s on 2
# cores the first time.
#
# With --dynamic the same program is linked the way rustc links by default:
# a PIE against libc.so.6 (-pie, --as-needed, --eh-frame-hdr, -z relro -z now,
# Scrt1.o, crtbeginS.o), still through gcc with `-C linker-features=-lld`, so
# that the recording `ld` is the one run. Recorded once into
# target/bench-inputs/selflink-dyn/args.txt (build in selflink-dyn-build);
# outputs go to target/bench-out/exe-dyn/.
#
# With --shared, rivet's library crate linked as a Rust `dylib` (cargo rustc
# --crate-type dylib): a large shared object with debug info, every Rust
# symbol exported through a version script rustc writes, -shared -z now,
# --gc-sections. Recorded into target/bench-inputs/selflink-so/args.txt;
# outputs go to target/bench-out/exe-so/ and are checked with readelf.
#
# With --ripgrep, another program's default link: ripgrep's debug build
# (cargo install ripgrep --debug --locked, version RG_VERSION below), a PIE
# against libc.so.6 with exactly the arguments rustc passes by default, only
# `-C linker-features=-lld -C save-temps` added as for the self-links. Its
# build scripts and proc macros link through the recording `ld` too, so that
# `ld` records only the link whose -o is the rg binary (deps/rg-HASH), into
# target/bench-inputs/ripgrep/args.txt (build in ripgrep-build, the installed
# copy under ripgrep/root); outputs go to target/bench-out/exe-rg/. Needs
# crates.io the first time.
#
# After the timed runs every output is checked: the self-links' outputs run
# with --version (mold 1.10.1's static self-link crashes at startup in
# glibc's __ctype_init: reported, still timed); ripgrep's must print
# "ripgrep ..." for --version and find the expected lines in a small file.
#
# Usage: benches/compare_exe.sh [--dynamic|--shared|--ripgrep] [--runs N]
#                               [--interleave] [--linkers LIST] [ARGS_FILE]
#   ARGS_FILE  an ld command line, one argument per line, from any build
#              (default: the self-link above). Its -o is replaced.
#   --dynamic  the default recording is the dynamic (PIE) self-link
#   --shared   the default recording is the `dylib` link above
#   --ripgrep  the default recording is ripgrep's debug (PIE) link above
#   --runs N   timed runs per linker (default 10), after one warm-up
#   --interleave  one run of every linker per round, the order rotated every
#              round, N rounds after a warm-up round: fairer when other work
#              shares the machine (hyperfine otherwise does all runs of one
#              linker before the next, so a change of load lands on one)
#   --linkers  comma-separated subset of rivet,ld.bfd,ld.gold,ld.lld,mold
# Environment: RIVET (default target/release/rivet), THREADS (default 2),
# OUT (output directory, default target/bench-out/exe, exe-dyn, exe-so or
# exe-rg), RG_VERSION (the ripgrep release --ripgrep records, default 15.2.0).
#
# Prints mean ± σ, median, the ratio of means to rivet's (>1: rivet is
# faster), peak RSS of one separate run under /usr/bin/time (mold with
# --no-fork: otherwise its parent process is what gets measured), and the
# output size. Outputs go to target/bench-out/exe/ (exe-dyn/ with --dynamic,
# exe-so/ with --shared, exe-rg/ with --ripgrep).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
runs=10
want=rivet,ld.bfd,ld.gold,ld.lld,mold
args_file=
dynamic=
shared=
ripgrep=
interleave=
while (($#)); do
    case $1 in
    --interleave) interleave=1; shift ;;
    --dynamic) dynamic=1; shift ;;
    --shared) shared=1; shift ;;
    --ripgrep) ripgrep=1; shift ;;
    --runs) runs=$2; shift 2 ;;
    --linkers) want=$2; shift 2 ;;
    -h | --help) sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) args_file=$1; shift ;;
    esac
done
threads=${THREADS:-2}
RIVET=${RIVET:-$root/target/release/rivet}
command -v hyperfine >/dev/null || { echo "compare_exe.sh: hyperfine is required (apt-get install hyperfine)" >&2; exit 1; }
[[ -x $RIVET ]] || (cd "$root" && cargo build --release --quiet)

selflink=
if [[ -z $args_file && -n $ripgrep ]]; then
    # rustc's default link, as for --dynamic, of a program that is not rivet.
    flags="-C linker-features=-lld -C save-temps"
    inputs=$root/target/bench-inputs/ripgrep
    args_file=$inputs/args.txt
    if [[ ! -s $args_file ]]; then
        mkdir -p "$inputs/ld"
        # Build scripts and proc macros link through this ld too: only the
        # link of the rg binary itself (-o .../deps/rg-HASH) is recorded.
        cat >"$inputs/ld/ld" <<EOF
#!/bin/sh
prev=
for a; do
    if [ "\$prev" = -o ]; then
        case "\${a##*/}" in rg-*) printf '%s\n' "\$@" > "$args_file" ;; esac
    fi
    prev=\$a
done
exec ld.bfd "\$@"
EOF
        chmod +x "$inputs/ld/ld"
        rg_version=${RG_VERSION:-15.2.0}
        echo "compare_exe.sh: building ripgrep $rg_version's debug link inputs (once)" >&2
        RUSTFLAGS="$flags -C link-arg=-B$inputs/ld" \
            cargo install ripgrep --version "$rg_version" --debug --locked --force --quiet \
            --root "$inputs/root" --target-dir "$root/target/bench-inputs/ripgrep-build"
        [[ -s $args_file ]] || { echo "compare_exe.sh: rg was not linked through the recording ld" \
            "(an up-to-date target/bench-inputs/ripgrep-build? remove it)" >&2; exit 1; }
    fi
elif [[ -z $args_file ]]; then
    selflink=1
    # rustc's default for x86_64-unknown-linux-gnu: PIE, libc.so.6. Without
    # -lld rustc would run rust-lld through gcc (-fuse-ld=lld) and not our ld.
    flags="-C linker-features=-lld -C save-temps"
    name=selflink
    if [[ -n $shared ]]; then
        name="selflink-so"
    elif [[ -n $dynamic ]]; then
        name="selflink-dyn"
    else
        flags="-C target-feature=+crt-static -C relocation-model=static $flags"
    fi
    inputs=$root/target/bench-inputs/$name
    args_file=$inputs/args.txt
    if [[ ! -s $args_file ]]; then
        mkdir -p "$inputs/ld"
        cat >"$inputs/ld/ld" <<EOF
#!/bin/sh
printf '%s\n' "\$@" > "$args_file"
exec ld.bfd "\$@"
EOF
        chmod +x "$inputs/ld/ld"
        echo "compare_exe.sh: building rivet's debug self-link inputs (once)" >&2
        if [[ -n $shared ]]; then
            # Only the dylib's own link is recorded (it comes last).
            (cd "$root" && RUSTFLAGS="$flags -C link-arg=-B$inputs/ld" \
                cargo rustc --lib --crate-type dylib --quiet --target-dir "$root/target/bench-inputs/$name-build")
        else
            (cd "$root" && RUSTFLAGS="$flags -C link-arg=-B$inputs/ld" \
                cargo build --quiet --target-dir "$root/target/bench-inputs/$name-build")
        fi
        [[ -s $args_file ]] || { echo "compare_exe.sh: the build did not run the recording ld" >&2; exit 1; }
    fi
fi
mapfile -t argv <"$args_file"

out=${OUT:-$root/target/bench-out/exe${dynamic:+-dyn}${shared:+-so}${ripgrep:+-rg}}
mkdir -p "$out"
# The recorded line with its output redirected: LINKER stands for the name.
line=()
for ((k = 0; k < ${#argv[@]}; k++)); do
    if [[ ${argv[k]} == -o ]]; then
        line+=(-o "$out/LINKER.out"); k=$((k + 1))
    else
        line+=("${argv[k]}")
    fi
done
printf '%s\n' "${line[@]}" >"$out/args.template"

lld=$(command -v ld.lld-19 || command -v ld.lld || true)
declare -A bin=([rivet]="$RIVET --threads=$threads" [ld.bfd]=ld.bfd
    [ld.gold]="ld.gold --threads --thread-count=$threads" [ld.lld]="${lld:+$lld --threads=$threads}"
    [mold]="mold --threads=$threads")
hf=()
order=()
for l in rivet ld.bfd ld.gold ld.lld mold; do
    [[ ,$want, == *,$l,* && -n ${bin[$l]} ]] || continue
    command -v "${bin[$l]%% *}" >/dev/null || { echo "compare_exe.sh: skipping $l: not installed" >&2; continue; }
    sed "s|LINKER|$l|" "$out/args.template" >"$out/$l.args"
    # One argument per line, quoted for the shell hyperfine runs.
    cmd="${bin[$l]} $(sed "s/'/'\\\\''/g; s/.*/'&'/" "$out/$l.args" | tr '\n' ' ')"
    measured=$cmd
    [[ $l == mold ]] && measured="${bin[$l]} --no-fork ${cmd#"${bin[$l]} "}"
    if ! /usr/bin/time -f %M -o "$out/$l.rss" bash -c "$measured" >/dev/null 2>"$out/$l.err"; then
        echo "compare_exe.sh: $l failed, left out:" >&2; head -3 "$out/$l.err" >&2; continue
    fi
    order+=("$l")
    hf+=(-n "$l" "$cmd")
done
((${#order[@]})) || { echo "compare_exe.sh: no linker ran" >&2; exit 1; }
if [[ -n $interleave ]]; then
    # One hyperfine call per round (round 0 the warm-up), one run of each
    # linker per call, the order rotated every round; merged afterwards.
    n=${#order[@]}
    rm -f "$out"/round.*.json
    : >"$out/hyperfine.log"
    for ((r = 0; r <= runs; r++)); do
        rot=()
        for ((k = 0; k < n; k++)); do rot+=("${hf[@]:$((3 * ((k + r) % n))):3}"); done
        hyperfine --runs 1 --style basic --export-json "$out/round.$r.json" "${rot[@]}" >>"$out/hyperfine.log" 2>&1 ||
            { cat "$out/hyperfine.log" >&2; exit 1; }
    done
    rm -f "$out/round.0.json"
    python3 - "$out" <<'EOF'
import glob, json, os, statistics, sys
out = sys.argv[1]
times = {}
for f in sorted(glob.glob(os.path.join(out, "round.*.json"))):
    for r in json.load(open(f))["results"]:
        times.setdefault(r["command"], []).extend(r["times"])
results = [{"command": c, "mean": statistics.fmean(t),
            "stddev": statistics.stdev(t) if len(t) > 1 else 0.0,
            "median": statistics.median(t), "min": min(t), "max": max(t), "times": t}
           for c, t in times.items()]
json.dump({"results": results, "interleaved": True},
          open(os.path.join(out, "hyperfine.json"), "w"), indent=2)
EOF
else
    hyperfine --warmup 1 --runs "$runs" --style basic --export-json "$out/hyperfine.json" "${hf[@]}" >"$out/hyperfine.log" 2>&1 ||
        { cat "$out/hyperfine.log" >&2; exit 1; }
fi
if [[ -n $selflink && -n $shared ]]; then
    # The outputs are shared objects: each must read back cleanly.
    for l in "${order[@]}"; do
        if ! readelf -hdW --dyn-syms "$out/$l.out" >/dev/null 2>"$out/$l.run.err" || [[ -s $out/$l.run.err ]]; then
            echo "compare_exe.sh: readelf complains about the object $l linked:" >&2; head -3 "$out/$l.run.err" >&2
        fi
    done
elif [[ -n $selflink ]]; then
    # The outputs are rivet itself: each must run.
    for l in "${order[@]}"; do
        "$out/$l.out" --version >/dev/null 2>"$out/$l.run.err" ||
            { echo "compare_exe.sh: the program $l linked does not run:" >&2; head -3 "$out/$l.run.err" >&2; }
    done
elif [[ -n $ripgrep ]]; then
    # The outputs are rg: each must run and find the right lines.
    printf 'alpha\nneedle one\nbeta\nNeedle two\nneedles\n' >"$out/haystack.txt"
    found=$'2:needle one\n4:Needle two'
    for l in "${order[@]}"; do
        { [[ $("$out/$l.out" --version) == "ripgrep "* ]] &&
            [[ $("$out/$l.out" -n -i '^needle \w+$' "$out/haystack.txt") == "$found" ]]; } 2>"$out/$l.run.err" ||
            { echo "compare_exe.sh: the rg $l linked does not work:" >&2; head -3 "$out/$l.run.err" >&2; }
    done
fi
python3 - "$out" "${order[@]}" <<'EOF'
import json, os, sys
out, names = sys.argv[1], sys.argv[2:]
res = {r["command"]: r for r in json.load(open(os.path.join(out, "hyperfine.json")))["results"]}
base = res.get("rivet", next(iter(res.values())))["mean"]
print(f"{'linker':<9} {'mean [ms]':>10} {'± σ':>7} {'median':>7} {'vs rivet':>9} {'RSS [MB]':>9} {'out [MB]':>9}")
for n in names:
    r = res[n]
    rss = open(os.path.join(out, n + ".rss")).read().split()[-1]
    size = os.path.getsize(os.path.join(out, n + ".out"))
    print(f"{n:<9} {r['mean']*1e3:>10.1f} {(r['stddev'] or 0)*1e3:>7.1f} {r['median']*1e3:>7.1f} {r['mean']/base:>8.2f}x {int(rss)/1024:>9.0f} {size/1e6:>9.1f}")
EOF
