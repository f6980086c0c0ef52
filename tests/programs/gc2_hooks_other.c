/* A second `my_hooks` entry that nothing refers to by name: only the
   __start_my_hooks reference in gc2_hooks.c keeps it. */
#include <stdio.h>

typedef void (*hook_fn)(void);
static void other(void) { puts("hook in gc2_hooks_other.c"); }
__attribute__((section("my_hooks"), used)) static const hook_fn other_ptr = other;
