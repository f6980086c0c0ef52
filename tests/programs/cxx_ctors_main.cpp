// C++ global objects with non-trivial constructors and destructors in two
// files, a function-local static, and init_priority: the log shows the order.
#include <cstdio>
#include <string>
#include <vector>

std::vector<std::string> &ctor_log()
{
    static std::vector<std::string> log; // constructed on first use
    return log;
}

struct global_obj {
    std::string name;
    explicit global_obj(const char *n) : name(n) { ctor_log().push_back("ctor " + name); }
    ~global_obj() { std::printf("dtor %s\n", name.c_str()); }
};

global_obj main_early __attribute__((init_priority(1000)))("main_early");
global_obj main_a("main_a");
global_obj main_b("main_b");
static std::string main_string = "a non-trivially constructed string";

extern std::string other_value();

int main()
{
    for (const auto &entry : ctor_log())
        std::printf("%s\n", entry.c_str());
    std::printf("main_string=%s other=%s\n", main_string.c_str(), other_value().c_str());
    bool ok = ctor_log().size() == 5 && ctor_log()[0] == "ctor main_early" &&
              ctor_log()[1] == "ctor other_early";
    std::printf("order %s\n", ok ? "ok" : "WRONG");
    return ok ? 0 : 1;
}
