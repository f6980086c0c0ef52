# The winning copy of COMDAT group g, and fa calling g through it.
	.section .text.g,"axG",@progbits,g,comdat
	.globl g
	.type g,@function
g:	movl $1, %eax
	ret
	.text
	.globl fa
fa:	jmp g
	.section .note.GNU-stack,"",@progbits
