/* The second file of the COMMON test: same tentative definitions, one real
 * definition, and a larger, more aligned copy of common_sized. */
#include <stdint.h>

int common_var;
int common_shared_with_init = 1234;
double common_double;
char common_sized[200] __attribute__((aligned(64)));

void common_other_set(int v) { common_var += v; }
int common_other_get(void) { return common_var; }
int common_other_init_value(void) { return common_shared_with_init; }
uintptr_t common_other_sized_addr(void)
{
    for (int i = 0; i < 200; i++)
        common_sized[i] = (char)i; /* would overrun a 16-byte object */
    return (uintptr_t)common_sized;
}
