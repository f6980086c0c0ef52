// Templates, inline functions, inline variables and class statics that every
// file instantiates: each object gets its own COMDAT group per instance and
// the linker must keep exactly one.
#ifndef COMDAT_H
#define COMDAT_H

#include <map>
#include <string>
#include <vector>

template <typename T> struct accumulator {
    std::vector<T> items;
    static int instances;
    accumulator() { ++instances; }
    void add(const T &v) { items.push_back(v); }
    T total() const
    {
        T sum{};
        for (const auto &v : items)
            sum = sum + v;
        return sum;
    }
};
template <typename T> int accumulator<T>::instances = 0;

inline int shared_inline_counter()
{
    static int calls = 0; // one object across all files, also COMDAT
    return ++calls;
}

inline int shared_inline_variable = 100;

template <typename K, typename V> V lookup_or(const std::map<K, V> &m, const K &k, V dflt)
{
    auto it = m.find(k);
    return it == m.end() ? dflt : it->second;
}

struct shape {
    virtual ~shape() = default;
    virtual int area() const = 0;
    virtual const char *kind() const { return "shape"; }
};

struct square final : shape { // inline vtable: emitted in every user
    int side;
    explicit square(int s) : side(s) {}
    int area() const override { return side * side; }
    const char *kind() const override { return "square"; }
};

int comdat_a();
int comdat_b();
int comdat_c();

#endif
