#!/usr/bin/env python3
"""Generate synthetic, relocation-heavy x86-64 ELF objects for linker benchmarks.

Writes N GNU assembler files and assembles them in parallel with `as` into
relocatable objects. The relocation mix imitates what gcc emits for C/C++:

  .text     R_X86_64_PLT32          calls to global functions in other objects
            R_X86_64_PC32           %rip-relative data and string-literal refs
            R_X86_64_REX_GOTPCRELX  movq sym@GOTPCREL(%rip), %reg
            R_X86_64_GOTPCRELX      call *sym@GOTPCREL(%rip)
  .data     R_X86_64_64             pointer tables (functions and data)
  .eh_frame R_X86_64_PC32           one FDE per function, from .cfi_* directives
  COMDAT    .text.inl_K groups      weak "inline" functions, identical in every
                                    object that includes them (C++ style)
  .debug_*  R_X86_64_32 / _64       valid DWARF 4: .debug_info strp/abbrev
                                    refs, low_pc/location addresses, .debug_aranges

Every referenced symbol is defined in exactly one generated object (or in a
COMDAT group), so `DIR/main.o` plus all objects link into a program that runs.

Output is deterministic: the same arguments and seed give byte-identical
objects (each object's content depends only on the seed and its index).

Usage:
  gen.py --preset medium --out DIR
  gen.py --objects N --relocs-per-object M --out DIR [--seed S] [--jobs J]

DIR/objs.txt lists the objects (relative to DIR, one per line; DIR/main.o
is not in it); DIR/manifest.json records the parameters,
the counts measured from the produced objects, and the generation time.
"""

import argparse
import concurrent.futures as cf
import hashlib
import json
import os
import random
import shutil
import struct
import subprocess
import sys
import time

PRESETS = {
    # name: (objects, relocs per object)  -> total ~= product
    "tiny": (20, 500),
    "small": (200, 500),
    "medium": (1000, 1000),
    "large": (4000, 1100),
    # Pointer tables first (--text-share 0.1): ~1.9M R_X86_64_64, each a
    # dynamic record (RELATIVE, a RELR bit, or symbolic in a shared object)
    # when linked as a PIE or shared object (benches/write_dynamic.rs).
    "dynamic": (1000, 2500),
}
# Presets that change the relocation mix too.
PRESET_TEXT_SHARE = {"dynamic": 0.1}

GEN_VERSION = 1  # bump when the generated content changes

# Share of the per-object "free" relocation budget (after the fixed cost of
# functions/data/debug) spent in .text vs .data pointer tables.
TEXT_SHARE = 0.78
# Mix of .text relocation kinds (weights).
TEXT_MIX = [
    ("call", 42),      # call f@PLT                 -> PLT32
    ("lea", 16),       # leaq d(%rip)               -> PC32
    ("load", 8),       # movl d+off(%rip)           -> PC32 (with addend)
    ("str", 8),        # leaq .LCn(%rip)            -> PC32 to .rodata.str1.1
    ("got", 14),       # movq d@GOTPCREL(%rip)      -> REX_GOTPCRELX
    ("gotcall", 4),    # call *f@GOTPCREL(%rip)     -> GOTPCRELX
    ("inl", 8),        # call inl_K (COMDAT)        -> PLT32
]
REGS = ["rax", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11"]
REGS32 = {"rax": "eax", "rcx": "ecx", "rdx": "edx", "rsi": "esi", "rdi": "edi",
          "r8": "r8d", "r9": "r9d", "r10": "r10d", "r11": "r11d"}


class Shape:
    """Numbers every object must agree on (so cross references resolve)."""

    def __init__(self, objects, relocs_per_object, seed, text_share=None):
        self.n = objects
        self.m = relocs_per_object
        self.seed = seed
        # ~40 relocations per function (text body + eh_frame + debug)
        self.funcs = max(2, round(relocs_per_object / 40))
        # ~1 data object per 2 functions, each a small pointer table
        self.datas = max(1, self.funcs // 2)
        # COMDAT pool shared by all objects; each object includes a few
        self.inl_pool = max(4, min(2000, objects // 4 + 8))
        self.inl_per_obj = max(1, min(self.inl_pool, round(relocs_per_object / 250)))
        self.inl_body = 6  # relocations in each COMDAT function body
        fixed = (self.funcs * (1 + 3)          # eh_frame FDE + debug name/low_pc/aranges
                 + self.datas * 2              # debug name/location
                 + self.inl_per_obj * (1 + self.inl_body)
                 + 4)                          # CU header, aranges header
        free = max(self.funcs * 2, relocs_per_object - fixed)
        share = TEXT_SHARE if text_share is None else text_share
        self.text_relocs = round(free * share)
        self.data_relocs = max(self.datas, free - self.text_relocs)

    def fname(self, o, k):
        return f"f{o}_{k}"

    def dname(self, o, k):
        return f"d{o}_{k}"


def obj_rng(seed, tag, i):
    h = hashlib.sha256(f"{seed}:{tag}:{i}".encode()).digest()
    return random.Random(int.from_bytes(h[:8], "little"))


def pick_kind(rng, mix, total):
    x = rng.random() * total
    for name, w in mix:
        x -= w
        if x < 0:
            return name
    return mix[-1][0]


def remote(rng, shape, this):
    """Pick another object, biased towards near neighbours (locality)."""
    if shape.n == 1:
        return this
    if rng.random() < 0.6:
        o = (this + rng.randint(1, min(16, shape.n - 1))) % shape.n
    else:
        o = rng.randrange(shape.n)
    return o


def inl_body(shape, k):
    """Body of COMDAT function inl_K: identical in every object (own RNG)."""
    rng = obj_rng(shape.seed, "inl", k)
    lines = []
    for _ in range(shape.inl_body):
        kind = rng.choice(["call", "lea", "got"])
        o = rng.randrange(shape.n)
        if kind == "call":
            lines.append(f"\tcall\t{shape.fname(o, rng.randrange(shape.funcs))}@PLT")
        elif kind == "lea":
            lines.append(f"\tleaq\t{shape.dname(o, rng.randrange(shape.datas))}(%rip), %rax")
        else:
            lines.append(f"\tmovq\t{shape.dname(o, rng.randrange(shape.datas))}@GOTPCREL(%rip), %rax")
    return lines


def gen_object(shape, i, func_sections):
    rng = obj_rng(shape.seed, "obj", i)
    out = []
    w = out.append
    w(f'\t.file\t"o{i}.c"')

    # string literals referenced from .text
    nstr = max(1, shape.funcs)
    w('\t.section\t.rodata.str1.1,"aMS",@progbits,1')
    for s in range(nstr):
        w(f".LC{s}:")
        w(f'\t.string\t"o{i} message {s} {rng.randrange(1 << 30)}"')

    # COMDAT "inline" functions this object carries
    inls = sorted(rng.sample(range(shape.inl_pool), shape.inl_per_obj))
    for k in inls:
        w(f'\t.section\t.text.inl{k},"axG",@progbits,inl{k},comdat')
        w(f"\t.weak\tinl{k}")
        w(f"\t.type\tinl{k}, @function")
        w(f"inl{k}:")
        w("\t.cfi_startproc")
        out.extend(inl_body(shape, k))
        w("\tret")
        w("\t.cfi_endproc")
        w(f"\t.size\tinl{k}, .-inl{k}")

    # functions
    total_w = sum(wt for _, wt in TEXT_MIX)
    per_func = [shape.text_relocs // shape.funcs] * shape.funcs
    for r in range(shape.text_relocs % shape.funcs):
        per_func[r] += 1
    if not func_sections:
        w("\t.text")
    for k in range(shape.funcs):
        name = shape.fname(i, k)
        if func_sections:
            w(f'\t.section\t.text.{name},"ax",@progbits')
        w("\t.p2align 4")
        w(f"\t.globl\t{name}")
        w(f"\t.type\t{name}, @function")
        w(f"{name}:")
        w(f".Lfb{k}:")
        w("\t.cfi_startproc")
        w("\tpushq\t%rbp")
        w("\t.cfi_def_cfa_offset 16")
        w("\t.cfi_offset 6, -16")
        w("\tmovq\t%rsp, %rbp")
        w("\t.cfi_def_cfa_register 6")
        for _ in range(per_func[k]):
            kind = pick_kind(rng, TEXT_MIX, total_w)
            reg = rng.choice(REGS)
            if kind == "call":
                o = remote(rng, shape, i)
                w(f"\tcall\t{shape.fname(o, rng.randrange(shape.funcs))}@PLT")
            elif kind == "lea":
                o = remote(rng, shape, i)
                w(f"\tleaq\t{shape.dname(o, rng.randrange(shape.datas))}(%rip), %{reg}")
            elif kind == "load":
                o = remote(rng, shape, i)
                off = 8 * rng.randrange(4)
                w(f"\tmovl\t{shape.dname(o, rng.randrange(shape.datas))}+{off}(%rip), %{REGS32[reg]}")
            elif kind == "str":
                w(f"\tleaq\t.LC{rng.randrange(nstr)}(%rip), %{reg}")
            elif kind == "got":
                o = remote(rng, shape, i)
                w(f"\tmovq\t{shape.dname(o, rng.randrange(shape.datas))}@GOTPCREL(%rip), %{reg}")
            elif kind == "gotcall":
                o = remote(rng, shape, i)
                w(f"\tcall\t*{shape.fname(o, rng.randrange(shape.funcs))}@GOTPCREL(%rip)")
            else:  # inl
                w(f"\tcall\tinl{rng.choice(inls)}@PLT")
            if rng.random() < 0.3:  # some non-relocated filler
                w(f"\taddl\t${rng.randrange(1, 1000)}, %eax")
        w("\tpopq\t%rbp")
        w("\t.cfi_def_cfa 7, 8")
        w("\tret")
        w("\t.cfi_endproc")
        w(f".Lfe{k}:")
        w(f"\t.size\t{name}, .-{name}")

    # data: pointer tables (R_X86_64_64)
    per_data = [shape.data_relocs // shape.datas] * shape.datas
    for r in range(shape.data_relocs % shape.datas):
        per_data[r] += 1
    w("\t.data")
    for k in range(shape.datas):
        name = shape.dname(i, k)
        n = max(per_data[k], 4)  # >= 4 words: "load" reads up to +24
        w("\t.p2align 3")
        w(f"\t.globl\t{name}")
        w(f"\t.type\t{name}, @object")
        w(f"\t.size\t{name}, {8 * n}")
        w(f"{name}:")
        for j in range(n):
            if j < per_data[k]:
                o = remote(rng, shape, i)
                if rng.random() < 0.7:
                    w(f"\t.quad\t{shape.fname(o, rng.randrange(shape.funcs))}")
                else:
                    w(f"\t.quad\t{shape.dname(o, rng.randrange(shape.datas))}+{8 * rng.randrange(4)}")
            else:
                w(f"\t.quad\t{rng.randrange(1 << 32)}")

    gen_debug(shape, i, w, func_sections)
    w('\t.section\t.note.GNU-stack,"",@progbits')
    return "\n".join(out) + "\n"


def gen_debug(shape, i, w, func_sections):
    """Minimal but valid DWARF 4 for the functions and data of object i."""
    # abbrevs: 1 compile_unit(children), 2 subprogram, 3 variable
    w("\t.section\t.debug_abbrev,\"\",@progbits")
    w(".Ldebug_abbrev0:")
    for line in [
        "1", "0x11", "1",   # code, DW_TAG_compile_unit, DW_CHILDREN_yes
        "0x25", "0xe",      # DW_AT_producer, DW_FORM_strp
        "0x3", "0xe",       # DW_AT_name, DW_FORM_strp
        "0", "0",
        "2", "0x2e", "0",   # DW_TAG_subprogram, no children
        "0x3f", "0x19",     # DW_AT_external, DW_FORM_flag_present
        "0x3", "0xe",       # DW_AT_name, strp
        "0x11", "0x1",      # DW_AT_low_pc, DW_FORM_addr
        "0x12", "0x7",      # DW_AT_high_pc, DW_FORM_data8
        "0", "0",
        "3", "0x34", "0",   # DW_TAG_variable
        "0x3f", "0x19",     # DW_AT_external
        "0x3", "0xe",       # DW_AT_name, strp
        "0x2", "0x18",      # DW_AT_location, DW_FORM_exprloc
        "0", "0",
        "0",
    ]:
        w(f"\t.uleb128 {line}")

    w('\t.section\t.debug_str,"MS",@progbits,1')
    w(".Ldstr_prod:\n\t.string\t\"rivet-bench-gen\"")
    w(f".Ldstr_cu:\n\t.string\t\"o{i}.c\"")
    for k in range(shape.funcs):
        w(f".Ldstr_f{k}:\n\t.string\t\"{shape.fname(i, k)}\"")
    for k in range(shape.datas):
        w(f".Ldstr_d{k}:\n\t.string\t\"{shape.dname(i, k)}\"")

    w("\t.section\t.debug_info,\"\",@progbits")
    w(".Ldebug_info0:")
    w("\t.long\t.Linfo_end-.Linfo_start")
    w(".Linfo_start:")
    w("\t.value\t4")
    w("\t.long\t.Ldebug_abbrev0")          # R_X86_64_32
    w("\t.byte\t8")
    w("\t.uleb128 1")
    w("\t.long\t.Ldstr_prod")              # R_X86_64_32
    w("\t.long\t.Ldstr_cu")                # R_X86_64_32
    for k in range(shape.funcs):
        w("\t.uleb128 2")
        w(f"\t.long\t.Ldstr_f{k}")         # R_X86_64_32
        w(f"\t.quad\t.Lfb{k}")             # R_X86_64_64
        w(f"\t.quad\t.Lfe{k}-.Lfb{k}")
    for k in range(shape.datas):
        w("\t.uleb128 3")
        w(f"\t.long\t.Ldstr_d{k}")         # R_X86_64_32
        w("\t.uleb128 9\n\t.byte\t0x3")    # exprloc len 9: DW_OP_addr
        w(f"\t.quad\t{shape.dname(i, k)}")  # R_X86_64_64
    w("\t.byte\t0")
    w(".Linfo_end:")

    w("\t.section\t.debug_aranges,\"\",@progbits")
    w("\t.long\t.Laranges_end-.Laranges_start")
    w(".Laranges_start:")
    w("\t.value\t2")
    w("\t.long\t.Ldebug_info0")            # R_X86_64_32
    w("\t.byte\t8\n\t.byte\t0\n\t.value\t0\n\t.value\t0")
    for k in range(shape.funcs):
        w(f"\t.quad\t.Lfb{k}")             # R_X86_64_64
        w(f"\t.quad\t.Lfe{k}-.Lfb{k}")
    w("\t.quad\t0\n\t.quad\t0")
    w(".Laranges_end:")


MAIN_S = """\t.file\t"main.c"
\t.text
\t.globl\tmain
\t.type\tmain, @function
main:
\t.cfi_startproc
\tsubq\t$8, %rsp
\t.cfi_def_cfa_offset 16
\tleaq\t{d}(%rip), %rax
\tmovq\t{f}@GOTPCREL(%rip), %rcx
\txorl\t%eax, %eax
\taddq\t$8, %rsp
\t.cfi_def_cfa_offset 8
\tret
\t.cfi_endproc
\t.size\tmain, .-main
\t.section\t.note.GNU-stack,"",@progbits
"""


def section_family(name):
    """.rela.text.foo -> .rela.text, .rela.data.rel.ro.bar -> .rela.data.rel.ro ..."""
    for fam in (".rela.text", ".rela.data.rel.ro", ".rela.data.rel", ".rela.data",
                ".rela.rodata", ".rela.gcc_except_table", ".rela.init_array",
                ".rela.tdata"):
        if name == fam or name.startswith(fam + "."):
            return fam
    return name


def rela_count(path):
    """Relocation records and section count of an ELF64 object (stdlib only)."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:4] != b"\x7fELF" or data[4] != 2:
        raise ValueError(f"{path}: not ELF64")
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum = struct.unpack_from("<HH", data, 0x3A)
    relocs = 0
    by_sec = {}
    shstrndx, = struct.unpack_from("<H", data, 0x3E)
    hdrs = []
    if shoff and shnum == 0:  # extended numbering: counts live in section 0
        shnum, = struct.unpack_from("<Q", data, shoff + 0x20)
    if shoff and shstrndx == 0xFFFF:
        shstrndx, = struct.unpack_from("<I", data, shoff + 0x28)
    for s in range(shnum):
        off = shoff + s * shentsize
        name, typ, _flags, _addr, soff, size, _link, info, _align, entsize = \
            struct.unpack_from("<IIQQQQIIQQ", data, off)
        hdrs.append((name, typ, soff, size, info, entsize))
    stroff = hdrs[shstrndx][2]
    for name, typ, soff, size, info, entsize in hdrs:
        if typ == 4:  # SHT_RELA
            n = size // (entsize or 24)
            relocs += n
            end = data.index(b"\0", stroff + name)
            sname = data[stroff + name:end].decode()
            fam = section_family(sname)
            by_sec[fam] = by_sec.get(fam, 0) + n
    return relocs, shnum, len(data), by_sec


def work(args):
    shape, i, out, func_sections, keep_asm = args
    asm = gen_object(shape, i, func_sections)
    s_path = os.path.join(out, "asm", f"o{i}.s")
    o_path = os.path.join(out, "obj", f"o{i}.o")
    with open(s_path, "w") as f:
        f.write(asm)
    subprocess.run(["as", "--64", "-o", o_path, s_path], check=True)
    if not keep_asm:
        os.unlink(s_path)
    return (i,) + rela_count(o_path)


def summarize(out, since, params):
    """Write DIR/manifest.json for the objects listed in DIR/objs.txt."""
    with open(os.path.join(out, "objs.txt")) as f:
        objs = [l.strip() for l in f if l.strip()]
    relocs = sections = size = 0
    fam = {}
    for o in objs:
        r, s, sz, by_sec = rela_count(os.path.join(out, o))
        relocs += r
        sections += s
        size += sz
        for k, v in by_sec.items():
            fam[k] = fam.get(k, 0) + v
    manifest = {
        "params": params,
        "objects": len(objs),
        "relocations": relocs,
        "sections": sections,
        "bytes": size,
        "relocations_by_section": dict(sorted(fam.items())),
        "generate_seconds": round(time.time() - since, 2) if since else None,
    }
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")
    return manifest


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--summarize", metavar="DIR",
                    help="only write DIR/manifest.json for the objects in DIR/objs.txt")
    ap.add_argument("--since", type=float, help="with --summarize: start time (epoch s)")
    ap.add_argument("--preset", choices=sorted(PRESETS))
    ap.add_argument("--objects", type=int)
    ap.add_argument("--relocs-per-object", type=int)
    ap.add_argument("--out")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--text-share", type=float,
                    help=f"share of the free relocation budget in .text, the rest in .data "
                         f"pointer tables (default {TEXT_SHARE}, or the preset's)")
    ap.add_argument("--func-sections", type=float, default=0.5,
                    help="fraction of objects with one section per function (-ffunction-sections)")
    ap.add_argument("--keep-asm", action="store_true", help="keep DIR/asm/*.s")
    ap.add_argument("--force", action="store_true", help="regenerate even if DIR is up to date")
    ap.add_argument("--quiet", action="store_true")
    a = ap.parse_args()
    if a.summarize:
        m = summarize(a.summarize, a.since, {"source": "objs.txt"})
        print(f"{a.summarize}: {m['objects']} objects, {m['relocations']} relocations, "
              f"{m['sections']} sections, {m['bytes'] / 1e6:.1f} MB")
        return 0
    if not a.out:
        ap.error("--out is required")

    n, m = PRESETS.get(a.preset, (None, None))
    n = a.objects or n
    m = a.relocs_per_object or m
    if not n or not m:
        ap.error("give --preset or both --objects and --relocs-per-object")
    if n < 1 or m < 1:
        ap.error("--objects and --relocs-per-object must be positive")

    text_share = a.text_share
    if text_share is None:
        text_share = PRESET_TEXT_SHARE.get(a.preset)
    if text_share is not None and not 0.0 <= text_share <= 1.0:
        ap.error("--text-share must be between 0 and 1")
    params = {"version": GEN_VERSION, "objects": n, "relocs_per_object": m,
              "seed": a.seed, "func_sections": a.func_sections}
    if text_share is not None:
        params["text_share"] = text_share
    out = a.out
    manifest_path = os.path.join(out, "manifest.json")
    if not a.force and os.path.exists(manifest_path):
        try:
            with open(manifest_path) as f:
                old = json.load(f)
            if old.get("params") == params:
                if not a.quiet:
                    print(f"{out}: up to date ({old['relocations']} relocations in "
                          f"{old['objects']} objects)")
                return 0
        except (OSError, ValueError, KeyError):
            pass

    if shutil.which("as") is None:
        sys.exit("gen.py: `as` (binutils) not found")
    for sub in ("obj", "asm"):
        shutil.rmtree(os.path.join(out, sub), ignore_errors=True)
        os.makedirs(os.path.join(out, sub))
    if os.path.exists(manifest_path):
        os.unlink(manifest_path)

    t0 = time.monotonic()
    shape = Shape(n, m, a.seed, text_share)
    # which objects use per-function sections: deterministic, evenly spread
    r = min(max(a.func_sections, 0.0), 1.0)
    jobs = [(shape, i, out, int((i + 1) * r) > int(i * r), a.keep_asm)
            for i in range(n)]
    relocs = sections = size = 0
    fam = {}
    done = 0
    with cf.ProcessPoolExecutor(max_workers=max(1, a.jobs)) as ex:
        for i, r, s, sz, by_sec in ex.map(work, jobs, chunksize=8):
            relocs += r
            sections += s
            size += sz
            for k, v in by_sec.items():
                fam[k] = fam.get(k, 0) + v
            done += 1
            if not a.quiet and sys.stderr.isatty() and done % max(1, n // 10) == 0:
                print(f"  {done}/{n} objects", file=sys.stderr)

    # main.o references one function and one data object so a full link works
    with open(os.path.join(out, "asm", "main.s"), "w") as f:
        f.write(MAIN_S.format(d=shape.dname(0, 0), f=shape.fname(0, 0)))
    subprocess.run(["as", "--64", "-o", os.path.join(out, "main.o"),
                    os.path.join(out, "asm", "main.s")], check=True)
    if not a.keep_asm:
        shutil.rmtree(os.path.join(out, "asm"), ignore_errors=True)

    with open(os.path.join(out, "objs.txt"), "w") as f:
        for i in range(n):
            f.write(f"obj/o{i}.o\n")
    elapsed = time.monotonic() - t0
    manifest = {
        "params": params,
        "objects": n,
        "relocations": relocs,
        "sections": sections,
        "bytes": size,
        "relocations_by_section": dict(sorted(fam.items())),
        "functions_per_object": shape.funcs,
        "comdat_pool": shape.inl_pool,
        "comdat_per_object": shape.inl_per_obj,
        "generate_seconds": round(elapsed, 2),
        "jobs": a.jobs,
    }
    with open(manifest_path, "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")
    if not a.quiet:
        print(f"{out}: {n} objects, {relocs} relocations, {sections} sections, "
              f"{size / 1e6:.1f} MB in {elapsed:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
