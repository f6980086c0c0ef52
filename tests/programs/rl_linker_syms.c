/* Weak references to linker-defined symbols: some exist whether or not
 * what they name does (the array bounds, __ehdr_start), others only with it
 * (__GNU_EH_FRAME_HDR with --eh-frame-hdr's .eh_frame_hdr, __start_X with
 * section X, _TLS_MODULE_BASE_ with a TLS reference to it). The program
 * prints which are set, as GNU ld links them. */
#include <stdio.h>

#define WEAK(n) extern const char n[] __attribute__((weak));
WEAK(__GNU_EH_FRAME_HDR)
WEAK(_TLS_MODULE_BASE_)
WEAK(__preinit_array_start)
WEAK(__preinit_array_end)
WEAK(__init_array_start)
WEAK(__start_rl_no_such_section)
WEAK(__stop_rl_no_such_section)
WEAK(__start_rl_present)
WEAK(__rela_iplt_start)
WEAK(__rela_iplt_end)
WEAK(__ehdr_start)

__attribute__((used, section("rl_present"))) static const int present = 1;

#define SHOW(n) printf("%-28s %s\n", #n, n ? "set" : "null");

int main(void)
{
    SHOW(__GNU_EH_FRAME_HDR)
    SHOW(_TLS_MODULE_BASE_)
    SHOW(__preinit_array_start)
    SHOW(__preinit_array_end)
    SHOW(__init_array_start)
    SHOW(__start_rl_no_such_section)
    SHOW(__stop_rl_no_such_section)
    SHOW(__start_rl_present)
    SHOW(__rela_iplt_start)
    SHOW(__rela_iplt_end)
    SHOW(__ehdr_start)
    printf("preinit array empty: %d\n", __preinit_array_end == __preinit_array_start);
    if (__GNU_EH_FRAME_HDR)
        printf("eh_frame_hdr version %d\n", __GNU_EH_FRAME_HDR[0]);
    return 0;
}
