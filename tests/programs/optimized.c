/* Built with -O2 -ffunction-sections -fdata-sections: jump tables in
 * .rodata, inlined and cloned functions, vectorized loops, many small
 * sections, constant pools. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static uint32_t crc_table[256];

static void crc_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        crc_table[i] = c;
    }
}

uint32_t crc32(const void *data, size_t n)
{
    const uint8_t *p = data;
    uint32_t c = 0xFFFFFFFFu;
    while (n--)
        c = crc_table[(c ^ *p++) & 0xFF] ^ (c >> 8);
    return c ^ 0xFFFFFFFFu;
}

__attribute__((noinline)) const char *classify(int x)
{
    switch (x) {
    case 0: return "zero";
    case 1: return "one";
    case 2: return "two";
    case 3: return "three";
    case 4: return "four";
    case 5: return "five";
    case 6: return "six";
    case 7: return "seven";
    case 8: return "eight";
    case 9: return "nine";
    default: return "many";
    }
}

__attribute__((noinline)) double dot(const double *a, const double *b, int n)
{
    double s = 0;
    for (int i = 0; i < n; i++)
        s += a[i] * b[i];
    return s;
}

static int sieve(int limit)
{
    static unsigned char composite[100001];
    int count = 0;
    memset(composite, 0, sizeof composite);
    for (int i = 2; i <= limit; i++) {
        if (composite[i])
            continue;
        count++;
        for (long j = (long)i * i; j <= limit; j += i)
            composite[j] = 1;
    }
    return count;
}

int main(void)
{
    double a[64], b[64];
    crc_init();
    const char *text = "The quick brown fox jumps over the lazy dog";
    uint32_t crc = crc32(text, strlen(text));
    printf("crc32=%08x\n", crc);
    for (int i = 0; i < 12; i++)
        printf("%s%c", classify(i), i == 11 ? '\n' : ' ');
    for (int i = 0; i < 64; i++) {
        a[i] = i * 0.5;
        b[i] = 64 - i;
    }
    printf("dot=%.1f primes<=100000: %d\n", dot(a, b, 64), sieve(100000));
    return crc == 0x414FA339u ? 0 : 1;
}
