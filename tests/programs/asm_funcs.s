# Hand-written x86-64 assembly: RIP-relative data, absolute 64-bit and
# 32-bit data relocations, a call into C through PLT32, a private .bss
# object, a function in its own named section, and a jump table.
        .text
        .globl  asm_sum
        .type   asm_sum, @function
# long asm_sum(const long *arr, long n)
asm_sum:
        xorl    %eax, %eax
        testq   %rsi, %rsi
        jle     2f
1:      addq    (%rdi), %rax
        addq    $8, %rdi
        decq    %rsi
        jnz     1b
2:      addq    asm_bias(%rip), %rax
        ret
        .size   asm_sum, .-asm_sum

        .globl  asm_call_back
        .type   asm_call_back, @function
# long asm_call_back(long x): returns c_callback(x) + 1, counts calls in .bss
asm_call_back:
        subq    $8, %rsp
        incq    asm_calls(%rip)
        call    c_callback
        incq    %rax
        addq    $8, %rsp
        ret
        .size   asm_call_back, .-asm_call_back

        .globl  asm_call_count
        .type   asm_call_count, @function
asm_call_count:
        movq    asm_calls(%rip), %rax
        ret
        .size   asm_call_count, .-asm_call_count

        .globl  asm_greeting
        .type   asm_greeting, @function
asm_greeting:
        leaq    greeting(%rip), %rax
        ret
        .size   asm_greeting, .-asm_greeting

        .section .text.asm_dispatch,"ax",@progbits
        .globl  asm_dispatch
        .type   asm_dispatch, @function
# long asm_dispatch(long which, long x): table of absolute addresses
asm_dispatch:
        cmpq    $3, %rdi
        jae     9f
        movq    %rsi, %rax
        jmp     *dispatch_table(,%rdi,8)
10:     addq    %rax, %rax
        ret
11:     imulq   %rax, %rax
        ret
12:     negq    %rax
        ret
9:      movq    $-1, %rax
        ret
        .size   asm_dispatch, .-asm_dispatch

        .section .rodata
        .align  8
dispatch_table:
        .quad   10b, 11b, 12b
greeting:
        .asciz  "hello from assembly"

        .data
        .align  8
        .globl  asm_bias
asm_bias:
        .quad   1000
        .globl  asm_table32
asm_table32:
        .long   greeting
        .long   asm_sum

        .local  asm_calls
        .comm   asm_calls, 8, 8

        .section .note.GNU-stack,"",@progbits
