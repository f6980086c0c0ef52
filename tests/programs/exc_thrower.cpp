// Functions that throw, in a different file from the catches: unwinding
// crosses object files, so .eh_frame of both must be intact and found.
#include "exc.h"

#include <cctype>

int tracked::live = 0;

tracked::tracked(std::string n) : name(std::move(n)) { ++live; }
tracked::~tracked() { --live; }

std::vector<int> parse_numbers(const std::string &text)
{
    std::vector<int> out;
    tracked guard("parse");
    int cur = -1;
    for (std::size_t i = 0; i <= text.size(); i++) {
        char c = i < text.size() ? text[i] : ',';
        if (std::isdigit(static_cast<unsigned char>(c))) {
            cur = (cur < 0 ? 0 : cur * 10) + (c - '0');
        } else if (c == ',') {
            if (cur < 0)
                throw parse_error("empty field", static_cast<int>(i));
            out.push_back(cur);
            cur = -1;
        } else {
            throw parse_error(std::string("bad character '") + c + "'", static_cast<int>(i));
        }
    }
    return out;
}

int checked_at(const std::vector<int> &v, std::size_t i) { return v.at(i); }

void throw_int(int v)
{
    tracked t("int");
    throw v;
}

void rethrow_wrapped(const std::string &text)
{
    try {
        parse_numbers(text);
    } catch (const parse_error &e) {
        throw std::logic_error("wrapped: " + std::string(e.what()));
    }
}

tracked make_tracked_or_throw(const std::string &name, bool fail)
{
    tracked t(name);
    if (fail)
        throw std::invalid_argument("refused " + name);
    return t;
}
