/* --gc-sections and sections named like C identifiers. Without USE_START
   nothing refers to `my_hooks` or to __start_my_hooks/__stop_my_hooks, so
   GNU ld collects the section and its call to an undefined function is no
   error. With USE_START main walks the section, which keeps every input
   section named my_hooks (gc2_hooks_other.c adds one more entry). */
#include <stdio.h>

typedef void (*hook_fn)(void);

#ifdef USE_START
extern const hook_fn __start_my_hooks[], __stop_my_hooks[];
static void say(void) { puts("hook in gc2_hooks.c"); }
__attribute__((section("my_hooks"), used)) static const hook_fn hook_ptr = say;
#else
extern void missing_function(void);
__attribute__((section("my_hooks"), used)) void hook(void) { missing_function(); }
#endif

int main(void) {
#ifdef USE_START
    for (const hook_fn *p = __start_my_hooks; p < __stop_my_hooks; p++)
        (*p)();
#endif
    puts("ok");
    return 0;
}
