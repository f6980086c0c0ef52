#!/bin/sh
# Writes the seed corpora of the fuzz targets into fuzz/corpus/<target>/:
# real objects, archives, shared objects, version scripts, command lines,
# response files and GNU ld scripts, made with the system gcc, g++ and ar
# (as the integration tests make them). Nothing here is committed: run
# this once before `cargo +nightly fuzz run`. Idempotent.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
corpus="$here/corpus"
work=$(mktemp -d "${TMPDIR:-/tmp}/rivet-seeds.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
CC=${CC:-gcc}
CXX=${CXX:-g++}

for t in object archive version_script args dso link_r link_static link_dynamic; do
    mkdir -p "$corpus/$t"
done
cd "$work"

# ---- Sources -------------------------------------------------------------

cat > hello.c <<'EOF'
#include <stdio.h>
static const char msg[] = "hello from a seed";
int counter;
int main(void) { counter++; puts(msg); return counter - 1; }
EOF

cat > tls.c <<'EOF'
__thread int tls_init = 5;
__thread long tls_zero;
static __thread char tls_local[32];
extern __thread int tls_ext;
int get_tls(int i) { tls_local[i & 31] = (char)i; return tls_init + (int)tls_zero + tls_local[1] + tls_ext; }
int *addr_tls(void) { return &tls_init; }
EOF

cat > cxx.cc <<'EOF'
#include <stdexcept>
#include <string>
#include <vector>
template <typename T> struct Box { T v; T get() const { return v; } };
inline int shared_inline(int x) { return x * 7; }
struct Base { virtual ~Base() {} virtual int f() { return 1; } };
struct Derived : Base { int f() override { return 2; } };
int thrower(int x) { if (x > 3) throw std::runtime_error("too big"); return x; }
int catcher(int x) {
  try { return thrower(x); } catch (const std::exception &e) { return -1; }
}
std::string name() { return std::string("seed") + "!"; }
int use(std::vector<int> &v) { Box<int> b{3}; Derived d; Base &r = d; v.push_back(b.get()); return shared_inline(r.f()) + (int)v.size(); }
EOF

cat > comdat.cc <<'EOF'
template <typename T> T twice(T x) { return x + x; }
inline int only_once() { static int n; return ++n; }
int a() { return twice(1) + only_once(); }
long b() { return twice(2L); }
EOF

cat > misc.c <<'EOF'
#include <stdint.h>
int common_var;
__attribute__((weak)) int weak_def = 3;
extern int weak_undef __attribute__((weak));
static int hidden_static = 1;
__attribute__((visibility("hidden"))) int hidden_global = 2;
const char *strs[] = { "alpha", "beta", "gamma", "alpha" };
const uint64_t consts[] = { 1, 2, 3, 0x123456789abcdef0ull };
__attribute__((section("my_section"))) int in_named = 9;
__attribute__((constructor)) static void ctor(void) { hidden_static++; }
__attribute__((destructor)) static void dtor(void) { hidden_static--; }
static int impl_a(void) { return 1; }
static void *resolve_f(void) { return (void *)impl_a; }
int ifunc_f(void) __attribute__((ifunc("resolve_f")));
int uses(void) { return common_var + weak_def + (&weak_undef ? weak_undef : 0) + hidden_static + hidden_global + in_named + ifunc_f(); }
EOF

# Freestanding programs for the `link_static` target: each defines main
# and uses only what fuzz/support/support.c defines.
cat > static1.c <<'EOF'
extern int support_fn(int);
extern int support_data, support_bss;
extern const char support_str[];
extern __thread int support_tls, support_tbss;
static __thread int my_tls = 3;
__thread int my_tbss;
int my_common;
static const char *names[] = { "one", "two", support_str };
int fuzz_weak_ref(void) { return 1; }
__attribute__((section("fuzzsec"))) int in_fuzzsec = 4;
extern char __start_fuzzsec[], __stop_fuzzsec[];
static void init(void) { my_common = 1; }
__attribute__((used, section(".init_array"))) static void (*init_p)(void) = init;
int main(void) {
  my_tls += support_tls + support_tbss + my_tbss;
  return support_fn(my_tls) + support_data + support_bss + names[2][0] + my_common
       + (int)(__stop_fuzzsec - __start_fuzzsec);
}
EOF
cat > static2.c <<'EOF'
extern int support_fn(int);
extern __thread int support_tls;
static int impl(void) { return 2; }
static void *resolver(void) { return (void *)impl; }
int ifn(void) __attribute__((ifunc("resolver")));
__attribute__((weak)) extern int maybe(void);
const char str1[] = "merge me"; const char str2[] = "merge me";
long big[1000];
int main(void) { return ifn() + support_fn(support_tls) + (maybe ? maybe() : 0) + str1[0] + (int)big[3]; }
EOF
cat > static3.cc <<'EOF'
extern "C" int support_fn(int);
template <typename T> struct S { static T v; T get() { return v + support_fn(1); } };
template <typename T> T S<T>::v = 1;
inline int inl(int x) { static int c; return x + ++c; }
extern "C" int main() { S<int> s; S<long> l; return s.get() + (int)l.get() + inl(2); }
EOF

cat > start.s <<'EOF'
    .text
    .globl _start
_start:
    call main
    mov %eax, %edi
    mov $60, %eax
    syscall
    .section .note.GNU-stack,"",@progbits
EOF

cat > lib.c <<'EOF'
int lib_var = 1;
__thread int lib_tls = 2;
int lib_fn(int x) { return x + lib_var + lib_tls; }
int lib_old(void) { return 1; }
int lib_new(void) { return 2; }
__asm__(".symver lib_old, lib_sym@VERS_1");
__asm__(".symver lib_new, lib_sym@@VERS_2");
static int hidden(void) { return 3; }
int lib_uses_hidden(void) { return hidden(); }
EOF
cat > lib.map <<'EOF'
VERS_1 { global: lib_fn; lib_var; lib_tls; local: *; };
VERS_2 { global: lib_uses_hidden; } VERS_1;
EOF

# ---- Objects (object, link_r, archive members) --------------------------

obj() { # name compiler flags...
    n=$1; shift
    "$@" -c -o "$n.o" && cp "$n.o" "$corpus/object/$n.o" && cp "$n.o" "$corpus/link_r/$n.o"
}
obj hello        $CC hello.c -O1
obj hello_nopic  $CC hello.c -O2 -fno-pic -fno-asynchronous-unwind-tables
obj hello_g      $CC hello.c -O0 -g
obj hello_gz     $CC hello.c -O0 -g -gz
obj hello_gzstd  $CC hello.c -O0 -g -gz=zstd 2>/dev/null || true
obj tls          $CC tls.c -O2 -fPIC
obj tls_le       $CC tls.c -O2 -fno-pic -ftls-model=local-exec
obj tls_desc     $CC tls.c -O2 -fPIC -mtls-dialect=gnu2
obj cxx          $CXX cxx.cc -O1
obj cxx_g        $CXX cxx.cc -O0 -g
obj comdat       $CXX comdat.cc -O0
obj comdat_fs    $CXX comdat.cc -O1 -ffunction-sections -fdata-sections
obj misc         $CC misc.c -O1 -fcommon
obj misc_fs      $CC misc.c -O1 -fcommon -ffunction-sections -fdata-sections -fcf-protection=full
obj misc_large   $CC misc.c -O1 -mcmodel=medium
obj lto_fat      $CC hello.c -O2 -flto -ffat-lto-objects
obj start        $CC -x assembler start.s
obj lib          $CC lib.c -O1 -fPIC

# ---- Freestanding programs (link_static; also objects) -------------------

sobj() {
    n=$1; shift
    "$@" -c -O1 -fno-stack-protector -o "$n.o" && cp "$n.o" "$corpus/link_static/$n.o" && cp "$n.o" "$corpus/object/$n.o"
}
sobj static1     $CC static1.c
sobj static1_pie $CC static1.c -fPIE
sobj static1_g   $CC static1.c -g -gz -ffunction-sections
sobj static2     $CC static2.c -fno-pic
sobj static2_cet $CC static2.c -fPIE -fcf-protection=full
sobj static3     $CXX static3.cc -fno-exceptions
sobj static3_eh  $CXX static3.cc -fPIE -g
# The same programs with their link options selected (byte 9, see
# fuzz_targets/common.rs): --gc-sections, --emit-relocs, --eh-frame-hdr,
# --build-id.
for f in static1 static2 static3_eh; do
    python3 - "$f.o" "$corpus/link_static/${f}_opts.o" <<'EOF'
import sys
d = bytearray(open(sys.argv[1], 'rb').read())
d[9] = 0x0f
open(sys.argv[2], 'wb').write(d)
EOF
done
# ---- Position-independent objects (link_dynamic) ------------------------
# As a PIE (byte 9 = 0), a shared object (0x10), either with RELR (0x20),
# and with the link options above (low bits).
for f in tls tls_desc lib cxx comdat_fs static1_pie static2_cet static3_eh; do
    [ -f "$f.o" ] || continue
    python3 - "$f.o" "$corpus/link_dynamic/$f" <<'EOF'
import sys
d = bytearray(open(sys.argv[1], 'rb').read())
for sel in (0x00, 0x10, 0x20, 0x31, 0x2f):
    d[9] = sel
    open(f"{sys.argv[2]}_{sel:02x}.o", 'wb').write(d)
EOF
done
python3 - misc_fs.o "$corpus/link_r/misc_fs_opts.o" <<'EOF'
import sys
d = bytearray(open(sys.argv[1], 'rb').read())
d[9] = 0x02
open(sys.argv[2], 'wb').write(d)
EOF

# ---- Archives ------------------------------------------------------------

rm -f *.a
ar rcs plain.a hello.o tls.o misc.o
ar rcs one.a comdat.o
cp comdat_fs.o a_member_with_a_name_longer_than_sixteen.o
ar rcs longnames.a a_member_with_a_name_longer_than_sixteen.o start.o
ar rcsT thin.a hello.o tls.o
ar rc noindex.a hello.o start.o
ar rcS noindex2.a misc.o
printf '!<arch>\n' > empty.a
for a in plain one longnames thin noindex noindex2 empty; do
    cp "$a.a" "$corpus/archive/$a.a"
done

# ---- Shared objects ------------------------------------------------------

$CC -shared -o libseed.so lib.o -Wl,--version-script=lib.map -Wl,-soname,libseed.so.1
$CC -c -fPIC -fcommon -O1 -o misc_pic.o misc.c
$CC -shared -o libplain.so tls.o misc_pic.o -nostdlib
$CC -c -fPIC -O1 -o hello_pic.o hello.c
$CC -shared -o libhash.so hello_pic.o -Wl,--hash-style=sysv
cp libseed.so libplain.so libhash.so "$corpus/dso/"
for l in libdl.so.2 libutil.so.1; do
    for d in /lib/x86_64-linux-gnu /usr/lib/x86_64-linux-gnu /lib64; do
        if [ -f "$d/$l" ]; then cp "$d/$l" "$corpus/dso/$l"; break; fi
    done
done

# ---- Version scripts -----------------------------------------------------

cp lib.map "$corpus/version_script/lib.map"
# Every script the unit tests of src/input/version_script.rs parse.
python3 - "$root/src/input/version_script.rs" "$corpus/version_script" <<'EOF'
import re, sys
src = open(sys.argv[1]).read()
out = sys.argv[2]
def lit(s, i):
    # A Rust string literal at s[i:]: "..." with escapes or r#"..."#.
    if s[i] == 'r':
        j = i + 1
        while s[j] == '#': j += 1
        hashes = j - i - 1
        end = s.index('"' + '#' * hashes, j + 1)
        return s[j + 1:end]
    j, buf = i + 1, []
    while s[j] != '"':
        if s[j] == '\\':
            c = s[j + 1]
            buf.append({'n': '\n', 't': '\t', '\\': '\\', '"': '"', '0': '\0', "'": "'"}.get(c, ''))
            if c == '\n':
                j += 2
                while s[j] in ' \n\t': j += 1
                continue
            j += 2
        else:
            buf.append(s[j]); j += 1
    return ''.join(buf)
n = 0
for m in re.finditer(r'\b(?:ok|fail|parse)\(\s*(?:"v\.map",\s*)?(?=r#*"|")', src):
    try:
        text = lit(src, m.end())
    except Exception:
        continue
    n += 1
    open(f"{out}/test{n:03}.map", 'w').write(text)
print(f"seed.sh: {n} version scripts from the unit tests")
EOF
printf '{ global: *; };\n' > "$corpus/version_script/all.map"
printf 'V1 { global: extern "C++" { "ns::f(int)"; ns::*; }; local: *; };\nV2 { g[a-z]?; } V1;\n' > "$corpus/version_script/cxx.map"

# ---- Command lines, response files and GNU ld scripts (args) -------------
# The first byte picks the mode (fuzz_targets/args.rs): 0 one argument per
# line, 1 a response file, 2 a GNU ld script named as the only input.

a() { name=$1; shift; printf '\000'; printf '%s\n' "$@"; }
a -o out -r a.o b.o > "$corpus/args/plain"
a -static -e main -o out --gc-sections --emit-relocs --build-id=sha1 a.o -L/tmp -lc > "$corpus/args/static"
a -pie -z now -z relro -z pack-relative-relocs --hash-style=gnu -E -rpath /x --dynamic-linker /lib64/ld-linux-x86-64.so.2 a.o --as-needed -lm --no-as-needed > "$corpus/args/pie"
a -shared -soname libx.so.1 --version-script=v.map -Bsymbolic --exclude-libs ALL -z defs a.o > "$corpus/args/shared"
a --start-group a.a b.a --end-group --whole-archive c.a --no-whole-archive -l:libz.a -Bstatic -ly -Bdynamic > "$corpus/args/groups"
a --threads=4 -Map=out.map -M --print-gc-sections -t -t --wrap=malloc --defsym=x=1 -z muldefs --allow-multiple-definition --fatal-warnings -w -x -X -s -S > "$corpus/args/misc"
a --version > "$corpus/args/version"
a --help > "$corpus/args/help"
a -z ibt -z shstk -z x86-64-v2 -z cet-report=error -z stack-size=0x10000 -z noexecstack -z execstack --eh-frame-hdr -m elf_x86_64 -plugin x -plugin-opt=y --sysroot=/ -O1 a.o > "$corpus/args/z"
{ printf '\001'; printf -- "-r -o 'out file' \"a.o\" b\\ c.o\n-L /usr/lib @nested\n"; } > "$corpus/args/response"
{ printf '\001'; printf -- '-static\n-o\nx\n@args.rsp\n'; } > "$corpus/args/response_self"
{ printf '\002'; printf '/* GNU ld script */\nOUTPUT_FORMAT(elf64-x86-64)\nGROUP ( /lib/x86_64-linux-gnu/libc.so.6 /usr/lib/x86_64-linux-gnu/libc_nonshared.a  AS_NEEDED ( /lib64/ld-linux-x86-64.so.2 ) )\n'; } > "$corpus/args/script_libc"
{ printf '\002'; printf 'INPUT(-lfoo libbar.a)\nGROUP(a.o AS_NEEDED(b.o c.o))\n'; } > "$corpus/args/script_input"
{ printf '\002'; printf 'INPUT(script)\n'; } > "$corpus/args/script_self"
for s in /usr/lib/x86_64-linux-gnu/libc.so /usr/lib/x86_64-linux-gnu/libm.so /usr/lib/x86_64-linux-gnu/libm.a; do
    if [ -f "$s" ] && ! head -c 4 "$s" | grep -q ELF && [ "$(wc -c < "$s")" -lt 4096 ]; then
        { printf '\002'; cat "$s"; } > "$corpus/args/system_$(basename "$s")"
    fi
done

for t in object archive version_script args dso link_r link_static link_dynamic; do
    echo "seed.sh: $t: $(ls "$corpus/$t" | wc -l) seeds"
done
