/* Calls fa and fb of rl_discarded_[ab].s or rl_discarded_debug.s. */
#include <stdio.h>
int fa(void), fb(void);
int main(void){ printf("%d\n", fa()); printf("%d\n", fb()); return 0; }
