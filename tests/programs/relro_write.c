/* A table of pointers to constant strings, itself constant: compiled as
   position-independent code it needs relocations, so it lands in
   .data.rel.ro. Once static glibc's startup has applied its IRELATIVE
   relocations it makes the PT_GNU_RELRO range read-only, so the write below
   must kill the program with SIGSEGV; it exits 0 only if the table stayed
   writable (no PT_GNU_RELRO, or one that does not cover .data.rel.ro). */
#include <stdio.h>

static const char *const table[] = {"alpha", "beta", "gamma"};

/* Hides the table's address from the optimizer, so the write stays. */
static const char *const *volatile where = table;

int main(void) {
    printf("%s %s %s\n", table[0], table[1], table[2]);
    fflush(stdout);
    const char **slot = (const char **)&where[1];
    *(const char *volatile *)slot = "written";
    printf("still alive: %s\n", where[1]);
    return 0;
}
