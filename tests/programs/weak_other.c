/* Strong definitions that must win over weak_main.c's weak ones. */
int defined_elsewhere_fn(void) { return 5; }
int defined_elsewhere_var = 6;
int overridden(void) { return 100; }
int weak_data = 20;
