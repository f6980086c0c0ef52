# TLS descriptor sequences whose `lea x@tlsdesc(%rip)` writes registers
# other than %rax (REX.W 0x48 and REX.WR 0x4c forms), each moved to %rax
# for the `call *(%rax)`. A static link relaxes the lea to
# `mov $tpoff, %reg`; main prints the sum of the variables it reaches.
	.text
	.globl main
	.type main, @function
main:
	push %rbx
	push %r12
	push %r15
	xorl %ebx, %ebx

	leaq v1@tlsdesc(%rip), %r12	# 4c 8d 25
	movq %r12, %rax
	call *v1@tlscall(%rax)
	addl %fs:(%rax), %ebx

	leaq v2@tlsdesc(%rip), %rcx	# 48 8d 0d
	movq %rcx, %rax
	call *v2@tlscall(%rax)
	addl %fs:(%rax), %ebx

	leaq v3@tlsdesc(%rip), %r15	# 4c 8d 3d
	movq %r15, %rax
	call *v3@tlscall(%rax)
	addl %fs:(%rax), %ebx

	leaq v4@tlsdesc(%rip), %rdi	# 48 8d 3d
	movq %rdi, %rax
	call *v4@tlscall(%rax)
	addl %fs:(%rax), %ebx

	leaq v1@tlsdesc(%rip), %r8	# 4c 8d 05
	movq %r8, %rax
	call *v1@tlscall(%rax)
	addl %fs:(%rax), %ebx

	leaq v4@tlsdesc(%rip), %rax	# 48 8d 05
	call *v4@tlscall(%rax)
	addl %fs:(%rax), %ebx

	leaq fmt(%rip), %rdi
	movl %ebx, %esi
	xorl %eax, %eax
	call printf
	xorl %eax, %eax
	pop %r15
	pop %r12
	pop %rbx
	ret
	.size main, .-main

	.section .rodata
fmt:	.string "sum=%d\n"

	.section .tdata,"awT",@progbits
	.align 4
	.globl v1
v1:	.long 1
v2:	.long 20
	.section .tbss,"awT",@nobits
	.align 4
v3:	.zero 4
	.section .tdata,"awT",@progbits
v4:	.long 4000
	.section .note.GNU-stack,"",@progbits
