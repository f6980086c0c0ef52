// One of several files instantiating the same templates and inline functions.
#include "comdat.h"

int comdat_a()
{
    accumulator<int> ai;
    ai.add(1);
    ai.add(2);
    accumulator<std::string> as;
    as.add("a");
    std::map<std::string, int> m{{"a", 10}};
    square sq(3);
    const shape &s = sq;
    shared_inline_counter();
    shared_inline_variable += 1;
    return ai.total() + static_cast<int>(as.total().size()) + lookup_or(m, std::string("a"), -1) +
           s.area();
}
