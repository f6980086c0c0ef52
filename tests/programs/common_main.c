/* COMMON symbols (compiled with -fcommon): tentative definitions of the same
 * names in two files merge into one object; a tentative definition meets a
 * real (initialized) one in the other file and the real one wins; the largest
 * size and strictest alignment of a common symbol are kept. */
#include <stdint.h>
#include <stdio.h>

int common_var;
int common_shared_with_init;
double common_double;
char common_sized[16];
int common_only_here[100];

void common_other_set(int v);
int common_other_get(void);
int common_other_init_value(void);
uintptr_t common_other_sized_addr(void);

int main(void)
{
    int failures = 0;
    common_var = 41;
    common_other_set(1);
    printf("common_var=%d other sees %d\n", common_var, common_other_get());
    if (common_var != 42 || common_other_get() != 42)
        failures++;

    printf("common_shared_with_init=%d other=%d\n", common_shared_with_init, common_other_init_value());
    if (common_shared_with_init != 1234)
        failures++;

    common_double = 1.5;
    printf("common_double aligned=%d\n", (int)((uintptr_t)&common_double % _Alignof(double) == 0));
    printf("common_sized same object=%d aligned64=%d\n",
           (uintptr_t)common_sized == common_other_sized_addr(),
           (int)((uintptr_t)common_sized % 64 == 0));
    if ((uintptr_t)common_sized != common_other_sized_addr() || (uintptr_t)common_sized % 64)
        failures++;

    for (int i = 0; i < 100; i++)
        if (common_only_here[i])
            failures++;
    printf("failures=%d\n", failures);
    return failures;
}
