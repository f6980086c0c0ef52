# The losing copy of COMDAT group g, with a local symbol that fb, outside
# the group, refers to: GNU ld refuses the reference to a discarded section.
	.section .text.g,"axG",@progbits,g,comdat
	.globl g
	.type g,@function
g:	movl $2, %eax
	ret
local_in_group:                 # local symbol inside the (losing) COMDAT copy
	movl $99, %eax
	ret
	.text
	.globl fb
fb:	jmp local_in_group          # reference from outside the group to a local in it
	.section .note.GNU-stack,"",@progbits
