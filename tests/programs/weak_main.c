/* Weak symbols: weak undefined functions and data that nothing defines must
 * resolve to NULL (and the program must not call them); a weak undefined
 * that another file does define must resolve to it; a weak definition here
 * must lose to a strong one in weak_other.c. */
#include <stdio.h>

extern int never_defined_fn(void) __attribute__((weak));
extern int never_defined_var __attribute__((weak));
extern int defined_elsewhere_fn(void) __attribute__((weak));
extern int defined_elsewhere_var __attribute__((weak));

__attribute__((weak)) int overridden(void) { return 1; }
__attribute__((weak)) int kept_weak(void) { return 2; }
__attribute__((weak)) int weak_data = 10;

int main(void)
{
    int failures = 0;
    printf("never_defined_fn %s\n", never_defined_fn ? "non-null" : "null");
    printf("never_defined_var %s\n", &never_defined_var ? "non-null" : "null");
    if (never_defined_fn || &never_defined_var)
        failures++;
    if (never_defined_fn)
        never_defined_fn();

    if (defined_elsewhere_fn && &defined_elsewhere_var)
        printf("defined_elsewhere: fn=%d var=%d\n", defined_elsewhere_fn(), defined_elsewhere_var);
    else
        failures++;

    printf("overridden=%d kept_weak=%d weak_data=%d\n", overridden(), kept_weak(), weak_data);
    if (overridden() != 100 || kept_weak() != 2 || weak_data != 20)
        failures++;
    printf("failures=%d\n", failures);
    return failures;
}
