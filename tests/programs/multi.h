/* Shared declarations of the multi-file program. */
#ifndef MULTI_H
#define MULTI_H

struct op {
    const char *name;
    long (*apply)(long, long);
    const struct op *inverse;
};

extern const struct op multi_ops[];
extern const int multi_nops;
extern const char *const multi_words[];
extern long *const multi_counter_ptr;
extern long multi_counter;
extern char multi_scratch[4096];

long multi_fold(const char *op_name, const long *values, int n);
const struct op *multi_find(const char *name);
unsigned multi_hash(const char *s);

#endif
