/* __start_SECNAME / __stop_SECNAME: a linker-defined pair bracketing every
 * input section named "rivet_items" (a C identifier, so the symbols exist),
 * gathered from two files. The items are plugins that register themselves. */
#include <stdio.h>
#include <string.h>

struct item {
    const char *name;
    int value;
    int (*fn)(int);
};

extern const struct item __start_rivet_items[];
extern const struct item __stop_rivet_items[];

/* Weak reference to a section no input has: GNU ld leaves both undefined. */
extern const char __start_rivet_absent[] __attribute__((weak));

static int twice(int x) { return 2 * x; }
static int square(int x) { return x * x; }

#define ITEM(id, v, f)                                                                             \
    __attribute__((section("rivet_items"), used, aligned(8))) static const struct item id = {#id, v, f}

ITEM(main_first, 1, twice);
ITEM(main_second, 2, square);

int main(void)
{
    size_t n = (size_t)(__stop_rivet_items - __start_rivet_items);
    int sum = 0;
    printf("items: %zu\n", n);
    for (const struct item *it = __start_rivet_items; it < __stop_rivet_items; it++) {
        int r = it->fn ? it->fn(it->value) : -1;
        printf("  %s value=%d fn=%d\n", it->name, it->value, r);
        sum += r;
    }
    printf("sum=%d absent=%s\n", sum, __start_rivet_absent ? "defined" : "null");
    return n == 4 && sum == 2 + 4 + 30 + 1600 ? 0 : 1;
}
