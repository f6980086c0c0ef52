/* The second object of the old-style constructor test: its plain `.ctors`
 * and `.init_array` entries interleave with the first object's in input
 * order; its prioritised ones sort among the first object's. */
#include <stdio.h>

#define ENTRY(sec, fn) \
    __attribute__((section(sec), used)) static void (*fn##_p)(void) = fn
#define SAY(fn) \
    static void fn(void) { puts(#fn); }

SAY(init_array_other)
SAY(ctors_other)
SAY(ctors_65435_other)
SAY(ctors_65534_other)
SAY(init_array_00101_other)
SAY(dtors_other)
SAY(dtors_00101_other)

ENTRY(".init_array", init_array_other);
ENTRY(".ctors", ctors_other);
ENTRY(".ctors.65435", ctors_65435_other);     /* priority 100, after main's */
ENTRY(".ctors.65534", ctors_65534_other);     /* priority 1: first */
ENTRY(".init_array.00101", init_array_00101_other);
ENTRY(".dtors", dtors_other);
ENTRY(".dtors.00101", dtors_00101_other);     /* priority 65434 */
