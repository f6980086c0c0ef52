/* The operations of the multi-file program and lookups over them. */
#include <string.h>

#include "multi.h"

static long op_add(long a, long b) { return a + b; }
static long op_sub(long a, long b) { return a - b; }
static long op_mul(long a, long b) { return a * b; }
static long op_max(long a, long b) { return a > b ? a : b; }

const struct op multi_ops[] = {
    {"add", op_add, &multi_ops[1]},
    {"sub", op_sub, &multi_ops[0]},
    {"mul", op_mul, 0},
    {"max", op_max, 0},
};
const int multi_nops = sizeof multi_ops / sizeof multi_ops[0];

const struct op *multi_find(const char *name)
{
    for (int i = 0; i < multi_nops; i++)
        if (strcmp(multi_ops[i].name, name) == 0)
            return &multi_ops[i];
    return 0;
}

long multi_fold(const char *op_name, const long *values, int n)
{
    const struct op *op = multi_find(op_name);
    long acc = values[0];
    for (int i = 1; i < n; i++)
        acc = op->apply(acc, values[i]);
    multi_counter += 0;
    return acc;
}
