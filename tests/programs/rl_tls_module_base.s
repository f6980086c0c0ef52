# A local-dynamic TLS descriptor sequence: the descriptor of
# _TLS_MODULE_BASE_ (which GNU ld defines at the thread pointer), plus
# each variable's @dtpoff. Relaxed to local exec in a static link.
	.text
	.globl main
main:
	leaq _TLS_MODULE_BASE_@tlsdesc(%rip), %rax
	call *_TLS_MODULE_BASE_@tlscall(%rax)
	movl %fs:a@dtpoff(%rax), %esi
	addl %fs:b@dtpoff(%rax), %esi
	leaq fmt(%rip), %rdi
	xorl %eax, %eax
	sub $8, %rsp
	call printf
	add $8, %rsp
	xorl %eax, %eax
	ret
	.section .rodata
fmt:	.string "a=%d\n"
	.section .tdata,"awT",@progbits
a:	.long 42
b:	.long 7
	.section .note.GNU-stack,"",@progbits
