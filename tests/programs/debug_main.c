/* Built with -g: the linker must relocate .debug_info, .debug_line,
 * .debug_str, .debug_line_str, .debug_aranges, .debug_rnglists... against
 * the final addresses, across two files. The tests check the program runs
 * and that addr2line maps functions back to their names and source lines. */
#include <stdio.h>

struct point {
    int x, y;
};

int debug_util_area(const struct point *a, const struct point *b);
const char *debug_util_name(int which);

static int debug_static_counter;

static int debug_local_helper(int v)
{
    debug_static_counter += v;
    return debug_static_counter * 2;
}

int debug_visible_function(int n)
{
    int acc = 0;
    for (int i = 0; i < n; i++)
        acc += debug_local_helper(i);
    return acc;
}

int main(void)
{
    struct point a = {1, 2}, b = {7, 9};
    int area = debug_util_area(&a, &b);
    int v = debug_visible_function(6);
    printf("area=%d visible=%d name=%s counter=%d\n", area, v, debug_util_name(2), debug_static_counter);
    return area == 42 && v == 70 ? 0 : 1;
}
