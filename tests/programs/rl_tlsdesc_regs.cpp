// Compiled -O2 -fPIC -mtls-dialect=gnu2: g++ keeps TLS descriptor
// addresses in callee-saved registers (`lea x@tlsdesc(%rip), %r12`, then
// `mov %r12, %rax; call *(%rax)`) around inlined std::to_string code; the
// static link must relax every such lea to `mov $tpoff, %reg`.
#include <cstdio>
#include <string>

thread_local int tl_counter = 10;
thread_local std::string tl_name = "init";
thread_local long tl_sum[4] = {1, 2, 3, 4};

__attribute__((noinline)) int work(int i)
{
    tl_counter += i;
    tl_name += std::to_string(i * 37 - 5);
    tl_sum[i & 3] += tl_counter;
    tl_name += std::to_string(tl_counter);
    return tl_counter + (int)tl_name.size();
}

int main()
{
    int acc = 0;
    for (int i = 0; i < 12; i++)
        acc += work(i);
    std::printf("%d %d %s %ld %ld %ld %ld\n", acc, tl_counter, tl_name.c_str(), tl_sum[0],
                tl_sum[1], tl_sum[2], tl_sum[3]);
    return 0;
}
