/* The second -g file of the debug program. */
struct point {
    int x, y;
};

static const char *const names[] = {"zero", "one", "two", "three"};

int debug_util_area(const struct point *a, const struct point *b)
{
    int w = b->x - a->x;
    int h = b->y - a->y;
    return w * h;
}

const char *debug_util_name(int which)
{
    return which >= 0 && which < 4 ? names[which] : "?";
}
