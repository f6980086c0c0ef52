/* Static constructors and destructors in C: constructor/destructor
 * attributes with and without priorities, and raw .init_array/.fini_array
 * (and .preinit_array) entries, spread over two files. The run order is
 * recorded and printed, so a linker that sorts or concatenates these arrays
 * wrongly shows a different sequence. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char order[128];
static int pos;

void mark(char c)
{
    if (pos < (int)sizeof order - 1)
        order[pos++] = c;
}

__attribute__((constructor(101))) static void ctor_101(void) { mark('A'); }
__attribute__((constructor(200))) static void ctor_200(void) { mark('C'); }
__attribute__((constructor)) static void ctor_default(void) { mark('E'); }
__attribute__((destructor(101))) static void dtor_101(void)
{
    mark('z');
    /* last destructor to run: report the whole order */
    printf("order at exit: %s\n", order);
    fflush(stdout);
}
__attribute__((destructor)) static void dtor_default(void) { mark('x'); }

static void init_array_entry(void) { mark('G'); }
static void fini_array_entry(void) { mark('w'); }
static void preinit_entry(void) { mark('P'); }

__attribute__((section(".init_array"), used)) static void (*init_ptr)(void) = init_array_entry;
__attribute__((section(".fini_array"), used)) static void (*fini_ptr)(void) = fini_array_entry;
__attribute__((section(".preinit_array"), used)) static void (*preinit_ptr)(void) = preinit_entry;

/* ctors_other.c */
extern int other_initialized;

static void on_exit_handler(void) { mark('q'); }

int main(void)
{
    printf("order in main: %s\n", order);
    printf("other_initialized=%d\n", other_initialized);
    /* preinit_array runs before everything, then prioritised constructors
     * (101 < 150 < 200), then unprioritised entries in link order. */
    int ok = strcmp(order, "PABCEGF") == 0;
    printf("expected order %s\n", ok ? "seen" : "NOT seen");
    atexit(on_exit_handler);
    mark('|');
    return ok ? 0 : 3;
}
