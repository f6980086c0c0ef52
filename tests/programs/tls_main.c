/* Thread-local storage in a static executable: initialized (.tdata) and
 * zero-initialized (.tbss) variables, TLS defined in another file (initial-exec
 * model, relaxed to local-exec by the linker), TLS reached from a -fPIC file
 * (general/local dynamic, relaxed), errno, and pthreads each with own copies. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

__thread int tls_init = 42;
__thread long tls_zero;
__thread char tls_buf[32] = "main-thread";
static __thread int tls_static_counter = 1000;
__thread double tls_aligned __attribute__((aligned(64))) = 2.5;

/* tls_other.c */
extern __thread int other_tls_init;
extern __thread int other_tls_zero[8];
int other_bump(int by);
/* tls_pic.c, compiled with -fPIC */
int pic_tls_get(void);
void pic_tls_set(int v);
int *pic_tls_addr(void);
/* tls_desc.c, compiled with -fPIC -mtls-dialect=gnu2 */
int desc_tls_sum(int add);

#define NTHREADS 4

struct result {
    int id;
    int init_seen;
    long zero_seen;
    int other_seen;
    int pic_seen;
    int errno_seen;
    int counter;
    int aligned_ok;
    int desc_seen;
    char buf[32];
};

static void *worker(void *arg)
{
    struct result *r = arg;
    r->init_seen = tls_init;
    r->zero_seen = tls_zero;
    r->other_seen = other_tls_init;
    r->pic_seen = pic_tls_get();
    r->aligned_ok = ((unsigned long)&tls_aligned % 64) == 0 && tls_aligned == 2.5;
    r->desc_seen = desc_tls_sum(0);
    desc_tls_sum(r->id);

    tls_init = 100 + r->id;
    tls_zero = 1000L * r->id;
    for (int i = 0; i < 10 * r->id; i++)
        tls_static_counter++;
    other_bump(r->id);
    pic_tls_set(r->id * 3);
    snprintf(tls_buf, sizeof tls_buf, "worker-%d", r->id);

    errno = 0;
    if (strtol("99999999999999999999999", NULL, 10) && errno == ERANGE)
        r->errno_seen = 1;
    /* every thread's values must still be its own */
    if (tls_init != 100 + r->id || tls_zero != 1000L * r->id || *pic_tls_addr() != r->id * 3 ||
        desc_tls_sum(0) != 5 + r->id + 7)
        r->init_seen = -1;
    r->counter = tls_static_counter;
    memcpy(r->buf, tls_buf, sizeof r->buf);
    return NULL;
}

int main(void)
{
    pthread_t th[NTHREADS];
    struct result res[NTHREADS];
    int failures = 0;

    printf("main: init=%d zero=%ld buf=%s other=%d pic=%d aligned=%d\n", tls_init, tls_zero,
           tls_buf, other_tls_init, pic_tls_get(), ((unsigned long)&tls_aligned % 64) == 0);
    for (int i = 0; i < 8; i++)
        if (other_tls_zero[i])
            failures++;

    for (int i = 0; i < NTHREADS; i++) {
        memset(&res[i], 0, sizeof res[i]);
        res[i].id = i + 1;
        if (pthread_create(&th[i], NULL, worker, &res[i]) != 0) {
            printf("pthread_create failed\n");
            return 2;
        }
    }
    for (int i = 0; i < NTHREADS; i++)
        pthread_join(th[i], NULL);

    for (int i = 0; i < NTHREADS; i++) {
        struct result *r = &res[i];
        printf("thread %d: init=%d zero=%ld other=%d pic=%d desc=%d errno=%d counter=%d aligned=%d "
               "buf=%s\n",
               r->id, r->init_seen, r->zero_seen, r->other_seen, r->pic_seen, r->desc_seen,
               r->errno_seen, r->counter, r->aligned_ok, r->buf);
        if (r->init_seen != 42 || r->zero_seen != 0 || r->other_seen != 7 || r->pic_seen != 11 ||
            r->desc_seen != 12 ||
            !r->errno_seen || r->counter != 1000 + 10 * r->id || !r->aligned_ok)
            failures++;
    }

    /* the threads must not have touched the main thread's copies */
    errno = 0;
    printf("main after: init=%d zero=%ld counter=%d buf=%s other=%d pic=%d desc=%d errno=%d\n",
           tls_init, tls_zero, tls_static_counter, tls_buf, other_bump(0), pic_tls_get(),
           desc_tls_sum(0), errno);
    if (tls_init != 42 || tls_zero != 0 || tls_static_counter != 1000 ||
        strcmp(tls_buf, "main-thread") || desc_tls_sum(0) != 12)
        failures++;

    printf("failures=%d\n", failures);
    return failures ? 1 : 0;
}
