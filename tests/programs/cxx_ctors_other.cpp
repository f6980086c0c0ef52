// The second file of the C++ constructor test.
#include <string>
#include <vector>

std::vector<std::string> &ctor_log();

struct other_obj {
    std::string name;
    explicit other_obj(const char *n) : name(n) { ctor_log().push_back("ctor " + name); }
    ~other_obj() { ctor_log().clear(); }
};

other_obj other_early __attribute__((init_priority(2000)))("other_early");
other_obj other_late("other_late");
static const std::string other_str = std::string("from ") + "other";

std::string other_value() { return other_str; }
