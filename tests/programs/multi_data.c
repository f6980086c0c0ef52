/* Data of the multi-file program: pointers into other objects. */
#include "multi.h"

const char *const multi_words[] = {"rivet", "linker", "relocation", "section", 0};
long multi_counter;
long *const multi_counter_ptr = &multi_counter;
char multi_scratch[4096];

unsigned multi_hash(const char *s)
{
    unsigned h = 2166136261u;
    while (*s)
        h = (h ^ (unsigned char)*s++) * 16777619u;
    return h;
}
