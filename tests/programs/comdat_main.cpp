// Drives the COMDAT program: all files must share one copy of each
// template static, function-local static and inline variable.
#include "comdat.h"

#include <cstdio>

int main()
{
    int a = comdat_a(), b = comdat_b(), c = comdat_c();
    int calls = shared_inline_counter();
    accumulator<double> ad;
    ad.add(1.25);
    std::printf("a=%d b=%d c=%d calls=%d inline_var=%d int_instances=%d string_instances=%d "
                "double_total=%.2f\n",
                a, b, c, calls, shared_inline_variable, accumulator<int>::instances,
                accumulator<std::string>::instances, ad.total());
    bool ok = a == 23 && b == 23 && c == 23 && calls == 4 && shared_inline_variable == 103 &&
              accumulator<int>::instances == 3 && accumulator<std::string>::instances == 3;
    return ok ? 0 : 1;
}
