/* More "rivet_items" from a second file. */
struct item {
    const char *name;
    int value;
    int (*fn)(int);
};

static int times_ten(int x) { return 10 * x; }
static int hundredfold(int x) { return 100 * x; }

__attribute__((section("rivet_items"), used, aligned(8))) static const struct item other_a = {
    "other_a", 3, times_ten};
__attribute__((section("rivet_items"), used, aligned(8))) static const struct item other_b = {
    "other_b", 16, hundredfold};
