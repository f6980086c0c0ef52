/* printf, malloc and the string functions that static glibc resolves through
 * IFUNCs (memcpy, strlen, strchr, memset, strcmp, ...): a broken IRELATIVE
 * or IPLT makes the very first call crash. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

int main(void)
{
    int failures = 0;
    const char *greeting = "hello, static world";
    size_t n = strlen(greeting);
    char *copy = malloc(n + 1);
    memcpy(copy, greeting, n + 1);
    printf("strlen=%zu copy=%s\n", n, copy);

    const char *comma = strchr(copy, ',');
    const char *last_o = strrchr(copy, 'o');
    printf("strchr offset=%td strrchr offset=%td\n", comma - copy, last_o - copy);
    if (comma - copy != 5)
        failures++;

    printf("strstr=%s\n", strstr(copy, "static"));
    printf("strcmp sign=%d strncmp=%d\n", strcmp("abc", "abd") < 0, strncmp("abcx", "abcy", 3));

    char buf[64];
    memset(buf, 'x', sizeof buf);
    buf[sizeof buf - 1] = '\0';
    printf("memset len=%zu memchr=%td\n", strlen(buf), (char *)memchr(buf, '\0', sizeof buf) - buf);

    memmove(buf + 2, buf, 10);
    snprintf(buf, sizeof buf, "%s|%5d|%-4s|%08.3f|%x", "fmt", 42, "ab", 3.14159, 0xbeefu);
    printf("snprintf=%s\n", buf);

    int *nums = calloc(16, sizeof *nums);
    for (int i = 0; i < 16; i++)
        nums[i] = (i * 7919) % 23;
    qsort(nums, 16, sizeof *nums, cmp_int);
    for (int i = 0; i < 16; i++)
        printf("%d%c", nums[i], i == 15 ? '\n' : ' ');
    for (int i = 1; i < 16; i++)
        if (nums[i - 1] > nums[i])
            failures++;

    nums = realloc(nums, 4096 * sizeof *nums);
    long sum = 0;
    for (int i = 0; i < 4096; i++)
        nums[i] = i;
    for (int i = 0; i < 4096; i++)
        sum += nums[i];
    printf("realloc sum=%ld\n", sum);
    if (sum != 4096L * 4095 / 2)
        failures++;

    char *dup = strdup("duplicate");
    printf("strdup=%s memcmp=%d\n", dup, memcmp(dup, "duplicate", 10));
    free(dup);
    free(nums);
    free(copy);

    printf("failures=%d\n", failures);
    /* A distinctive status so a wrong exit path shows. */
    return failures ? 1 : 7;
}
