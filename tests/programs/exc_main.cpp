// C++ exceptions thrown in exc_thrower.cpp and caught here, with
// std::string, std::vector and iostream; destructors must run while
// unwinding (tracked::live returns to zero).
#include "exc.h"

#include <iostream>
#include <memory>
#include <sstream>

static int failures = 0;

static void expect(bool ok, const char *what)
{
    if (!ok) {
        std::cout << "FAILED: " << what << '\n';
        failures++;
    }
}

int main()
{
    std::vector<std::string> inputs = {"1,2,3", "10,,30", "4,x,6", "123456,7"};
    for (const auto &in : inputs) {
        try {
            auto nums = parse_numbers(in);
            int sum = 0;
            for (int n : nums)
                sum += n;
            std::cout << "parsed " << in << " -> " << nums.size() << " numbers, sum " << sum << '\n';
        } catch (const parse_error &e) {
            std::cout << "parse_error at " << e.position << ": " << e.what() << '\n';
        }
    }

    std::vector<int> v{5, 6, 7};
    try {
        std::cout << "at(1)=" << checked_at(v, 1) << '\n';
        std::cout << "at(9)=" << checked_at(v, 9) << '\n';
        expect(false, "out_of_range not thrown");
    } catch (const std::out_of_range &) {
        std::cout << "caught out_of_range\n";
    }

    try {
        throw_int(17);
    } catch (int x) {
        std::cout << "caught int " << x << '\n';
        expect(x == 17, "int value");
    }

    try {
        rethrow_wrapped("9,?");
    } catch (const std::exception &e) {
        std::cout << "caught " << e.what() << '\n';
    }

    try {
        tracked ok = make_tracked_or_throw("kept", false);
        std::cout << "made " << ok.name << " live=" << tracked::live << '\n';
        make_tracked_or_throw("dropped", true);
    } catch (const std::invalid_argument &e) {
        std::cout << "caught " << e.what() << '\n';
    }

    try {
        try {
            throw std::runtime_error("inner");
        } catch (...) {
            std::cout << "rethrowing\n";
            throw;
        }
    } catch (const std::runtime_error &e) {
        std::cout << "outer caught " << e.what() << '\n';
    }

    auto p = std::make_unique<std::ostringstream>();
    *p << "stream " << 3.5 << ' ' << std::hex << 255;
    std::cout << p->str() << '\n';

    std::cout << "live trackers: " << tracked::live << '\n';
    expect(tracked::live == 0, "destructors ran while unwinding");
    std::cout << "failures=" << failures << std::endl;
    return failures;
}
