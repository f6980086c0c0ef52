/* TLS defined here, used from tls_main.c (initial-exec access there). */
__thread int other_tls_init = 7;
__thread int other_tls_zero[8];

int other_bump(int by)
{
    other_tls_zero[by % 8] += by;
    return other_tls_init + other_tls_zero[by % 8];
}
