/* Compiled with -fPIC: general-dynamic and local-dynamic TLS accesses
 * (__tls_get_addr calls) that a static link must relax. */
extern __thread int other_tls_init;
static __thread int pic_local = 11;
__thread int pic_global_zero;

int pic_tls_get(void)
{
    return pic_local + pic_global_zero * 0 + (other_tls_init - 7);
}

void pic_tls_set(int v)
{
    pic_local = v;
    pic_global_zero = v;
}

int *pic_tls_addr(void)
{
    return &pic_local;
}
