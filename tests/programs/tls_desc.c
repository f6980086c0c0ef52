/* Compiled with -fPIC -mtls-dialect=gnu2: TLS descriptor accesses
 * (R_X86_64_GOTPC32_TLSDESC / TLSDESC_CALL) that a static link must relax. */
__thread int desc_tls = 5;
extern __thread int other_tls_init;

int desc_tls_sum(int add)
{
    desc_tls += add;
    return desc_tls + other_tls_init;
}
