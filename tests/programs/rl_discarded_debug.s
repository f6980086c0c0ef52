# The losing copy of COMDAT group g, whose local symbol only debug info
# (and an FDE) refers to from outside the group: both get a tombstone, as
# with GNU ld, and the link succeeds.
	.section .text.g,"axG",@progbits,g,comdat
	.globl g
	.type g,@function
g:	movl $2, %eax
	ret
local_in_group:
	movl $99, %eax
	ret
	.text
	.globl fb
fb:	movl $3, %eax
	ret
	.section .debug_ranges,"",@progbits
	.quad local_in_group
	.quad local_in_group+6
	.section .debug_info,"",@progbits
	.quad local_in_group
	.section .note.GNU-stack,"",@progbits
