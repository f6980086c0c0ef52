/* --gc-sections: a dead global function and a dead global variable, and a
   strong undefined reference only the dead function makes. None of them
   belongs in the output's symbol table (GNU ld leaves them out). */
#include <stdio.h>

extern int gc2_never_defined(int);
int gc2_dead_global(int x) { return gc2_never_defined(x) * 3; }
int gc2_dead_data[16] = {1, 2, 3};
__attribute__((noipa)) int gc2_live_global(int x) { return x + 1; }

int main(void) {
    printf("%d\n", gc2_live_global(41));
    return 0;
}
