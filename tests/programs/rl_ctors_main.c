/* Old-style constructor and destructor tables: `.ctors`, `.ctors.N`,
 * `.dtors`, `.dtors.N` sections, which GNU ld's default script folds into
 * `.init_array`/`.fini_array` (`.ctors.N` and `.init_array.M` sorted together
 * by init priority, 65535 - N for `.ctors.N`), mixed with the modern kinds.
 * Every entry prints its name: the output is the order they ran in. */
#include <stdio.h>

#define ENTRY(sec, fn) \
    __attribute__((section(sec), used)) static void (*fn##_p)(void) = fn
#define SAY(fn) \
    static void fn(void) { puts(#fn); }

SAY(ctors_main_1)
SAY(ctors_main_2)
SAY(ctors_65435_main)
SAY(ctors_00200_main)
SAY(init_array_00100_main)
SAY(init_array_main)
SAY(dtors_main)
SAY(dtors_65435_main)
SAY(fini_array_00100_main)
SAY(fini_array_main)

/* Two pointers in one `.ctors` section: they run in the order they are
 * stored once in `.init_array`. */
__attribute__((section(".ctors"), used)) static void (*ctors_main_pair[2])(void) = {
    ctors_main_1, ctors_main_2};
ENTRY(".ctors.65435", ctors_65435_main);      /* priority 100 */
ENTRY(".ctors.00200", ctors_00200_main);      /* priority 65335 */
ENTRY(".init_array.00100", init_array_00100_main);
ENTRY(".init_array", init_array_main);
ENTRY(".dtors", dtors_main);
ENTRY(".dtors.65435", dtors_65435_main);
ENTRY(".fini_array.00100", fini_array_00100_main);
ENTRY(".fini_array", fini_array_main);

__attribute__((constructor(150))) static void constructor_150_main(void)
{
    puts("constructor_150_main");
}
__attribute__((constructor)) static void constructor_main(void) { puts("constructor_main"); }
__attribute__((destructor(150))) static void destructor_150_main(void)
{
    puts("destructor_150_main");
}

int main(void)
{
    puts("main");
    return 0;
}
