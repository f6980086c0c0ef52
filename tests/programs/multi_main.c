/* A program split over three files with data that points across files:
 * tables of function pointers, pointers to other files' data and strings,
 * and a large zero-initialized buffer. */
#include <stdio.h>
#include <string.h>

#include "multi.h"

static const long values[] = {3, 1, 4, 1, 5, 9, 2, 6, 5, 3};

int main(void)
{
    int failures = 0;
    for (int i = 0; i < multi_nops; i++) {
        const struct op *op = &multi_ops[i];
        long r = multi_fold(op->name, values, 10);
        printf("%-4s fold=%ld inverse=%s\n", op->name, r, op->inverse ? op->inverse->name : "-");
    }
    if (multi_fold("add", values, 10) != 39 || multi_fold("max", values, 10) != 9)
        failures++;
    if (multi_find("add")->inverse != multi_find("sub") || multi_find("nope"))
        failures++;

    for (int i = 0; multi_words[i]; i++)
        printf("word %d %s hash=%08x\n", i, multi_words[i], multi_hash(multi_words[i]));

    *multi_counter_ptr += 5;
    printf("counter=%ld via pointer=%ld\n", multi_counter, *multi_counter_ptr);
    if (multi_counter != 5)
        failures++;

    memset(multi_scratch, 'a', sizeof multi_scratch - 1);
    printf("scratch len=%zu\n", strlen(multi_scratch));
    printf("failures=%d\n", failures);
    return failures;
}
