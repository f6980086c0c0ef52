/* The second, valid object of the `link_static` fuzz target (and of its
 * regression test): what the fuzzed object may refer to. Compiled with
 * `cc -c -O1 -fno-pic -fno-stack-protector -fcf-protection=none`. No libc:
 * the links are `-static -e main` without one. */
int support_data = 42;
int support_bss;
const char support_str[] = "support string";
__thread int support_tls = 7;
__thread int support_tbss;
int support_common_user(void);
extern int fuzz_weak_ref(void) __attribute__((weak));

int support_fn(int x)
{
    return x * 3 + support_data + support_tls + (fuzz_weak_ref ? fuzz_weak_ref() : 0);
}

static void (*const support_init)(void) __attribute__((used, section(".init_array"))) = 0;
