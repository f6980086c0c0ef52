/* Drives asm_funcs.s. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

long asm_sum(const long *arr, long n);
long asm_call_back(long x);
long asm_call_count(void);
const char *asm_greeting(void);
long asm_dispatch(long which, long x);
extern long asm_bias;
extern uint32_t asm_table32[2];

long c_callback(long x) { return x * 3; }

int main(void)
{
    long arr[] = {1, 2, 3, 4, 5};
    long s = asm_sum(arr, 5);
    long cb = asm_call_back(4) + asm_call_back(5);
    printf("sum=%ld callback=%ld calls=%ld greeting=%s\n", s, cb, asm_call_count(), asm_greeting());
    printf("dispatch: %ld %ld %ld %ld\n", asm_dispatch(0, 7), asm_dispatch(1, 7), asm_dispatch(2, 7),
           asm_dispatch(5, 7));
    int table_ok = asm_table32[0] == (uint32_t)(uintptr_t)asm_greeting() &&
                   asm_table32[1] == (uint32_t)(uintptr_t)asm_sum;
    printf("bias=%ld table32 ok=%d\n", asm_bias, table_ok);
    return s == 1015 && cb == 29 && asm_call_count() == 2 && table_ok &&
                   strcmp(asm_greeting(), "hello from assembly") == 0
               ? 0
               : 1;
}
