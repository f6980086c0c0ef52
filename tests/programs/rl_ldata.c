/* -mcmodel=medium with a low -mlarge-data-threshold: the big arrays go to
 * .ldata, .lrodata and .lbss, which GNU ld places after .bss so that small
 * data stays within PC-relative reach of code. The program prints how its
 * data is ordered and checks the contents. */
#include <stdio.h>
#include <string.h>

extern char _edata[], _end[], __bss_start[];

char big_data[100000] = {1, 2, 3};
const char big_ro[50000] = {5, 6};
char big_bss[70000];
int small_bss;
int small_data = 40;
const int small_ro = 2;

static const char *order(const void *a, const void *b)
{
    return (const char *)a < (const char *)b ? "<" : ">=";
}

int main(void)
{
    big_data[sizeof big_data - 1] = 7;
    big_bss[sizeof big_bss - 1] = 9;
    memset(big_bss, 4, 100);
    small_bss = big_data[0] + big_data[2] + big_bss[99] + big_bss[sizeof big_bss - 1] + big_ro[1];
    printf("sum %d %d %d\n", small_data + small_bss, small_ro, big_data[sizeof big_data - 1]);
    printf("small_data %s small_bss %s big_bss %s big_ro %s big_data\n",
           order(&small_data, &small_bss), order(&small_bss, big_bss), order(big_bss, big_ro),
           order(big_ro, big_data));
    printf("_edata %s big_bss, __bss_start %s big_bss, big_data end %s _end + 1\n",
           order(_edata, big_bss + 1), order(__bss_start, big_bss + 1),
           order(big_data + sizeof big_data, _end + 1));
    return 0;
}
