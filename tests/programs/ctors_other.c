/* The second file of the constructor test. */
void mark(char c);

int other_initialized;

__attribute__((constructor(150))) static void ctor_150(void) { mark('B'); }
__attribute__((constructor)) static void ctor_default_other(void)
{
    mark('F');
    other_initialized = 99;
}
__attribute__((destructor(150))) static void dtor_150(void) { mark('y'); }
