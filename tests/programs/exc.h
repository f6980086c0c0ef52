// Shared declarations of the exception program.
#ifndef EXC_H
#define EXC_H

#include <stdexcept>
#include <string>
#include <vector>

struct parse_error : std::runtime_error {
    int position;
    parse_error(const std::string &what, int pos) : std::runtime_error(what), position(pos) {}
};

struct tracked {
    static int live;
    std::string name;
    explicit tracked(std::string n);
    ~tracked();
};

std::vector<int> parse_numbers(const std::string &text);
int checked_at(const std::vector<int> &v, std::size_t i);
void throw_int(int v);
void rethrow_wrapped(const std::string &text);
tracked make_tracked_or_throw(const std::string &name, bool fail);

#endif
