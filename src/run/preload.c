/* rivet -run's preload library: loaded into every process of a build
 * (LD_PRELOAD), it turns each exec of a linker (ld, ld.bfd, ld.gold,
 * ld.lld, mold, with or without a target prefix such as
 * x86_64-linux-gnu-) into an exec of rivet, whose path is in
 * RIVET_RUN_PATH. The arguments and environment are passed unchanged.
 *
 * Compiled by build.rs; rivet links it into a shared object itself
 * (src/run/mod.rs). The real functions are found once, at load, so that
 * nothing is looked up in a vfork child. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern char **environ;

typedef int (*execve_fn)(const char *, char *const[], char *const[]);
typedef int (*execvp_fn)(const char *, char *const[]);
typedef int (*execvpe_fn)(const char *, char *const[], char *const[]);
typedef int (*spawn_fn)(pid_t *, const char *, const posix_spawn_file_actions_t *,
                        const posix_spawnattr_t *, char *const[], char *const[]);

static execve_fn real_execve;
static execvp_fn real_execvp;
static execvpe_fn real_execvpe;
static spawn_fn real_posix_spawn;
static spawn_fn real_posix_spawnp;

__attribute__((constructor)) static void rivet_run_init(void) {
    real_execve = (execve_fn)dlsym(RTLD_NEXT, "execve");
    real_execvp = (execvp_fn)dlsym(RTLD_NEXT, "execvp");
    real_execvpe = (execvpe_fn)dlsym(RTLD_NEXT, "execvpe");
    real_posix_spawn = (spawn_fn)dlsym(RTLD_NEXT, "posix_spawn");
    real_posix_spawnp = (spawn_fn)dlsym(RTLD_NEXT, "posix_spawnp");
}

static const char *const linkers[] = {"ld", "ld.bfd", "ld.gold", "ld.lld", "mold", 0};

/* Whether the file name of PATH is a linker's: NAME or PREFIX-NAME. */
static int is_linker(const char *path) {
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    size_t len = strlen(base);
    for (int i = 0; linkers[i]; i++) {
        size_t n = strlen(linkers[i]);
        if (len >= n && strcmp(base + len - n, linkers[i]) == 0 &&
            (len == n || base[len - n - 1] == '-'))
            return 1;
    }
    return 0;
}

/* rivet's path when PATH names a linker, else PATH. */
static const char *redirect(const char *path) {
    const char *rivet = getenv("RIVET_RUN_PATH");
    if (path && rivet && *rivet && is_linker(path))
        return rivet;
    return path;
}

int execve(const char *path, char *const argv[], char *const envp[]) {
    return real_execve(redirect(path), argv, envp);
}

int execv(const char *path, char *const argv[]) {
    return real_execve(redirect(path), argv, environ);
}

int execvp(const char *file, char *const argv[]) {
    const char *to = redirect(file);
    if (to != file)
        return real_execve(to, argv, environ);
    return real_execvp(file, argv);
}

int execvpe(const char *file, char *const argv[], char *const envp[]) {
    const char *to = redirect(file);
    if (to != file)
        return real_execve(to, argv, envp);
    return real_execvpe(file, argv, envp);
}

int posix_spawn(pid_t *pid, const char *path, const posix_spawn_file_actions_t *actions,
                const posix_spawnattr_t *attr, char *const argv[], char *const envp[]) {
    return real_posix_spawn(pid, redirect(path), actions, attr, argv, envp);
}

int posix_spawnp(pid_t *pid, const char *file, const posix_spawn_file_actions_t *actions,
                 const posix_spawnattr_t *attr, char *const argv[], char *const envp[]) {
    const char *to = redirect(file);
    if (to != file)
        return real_posix_spawn(pid, to, actions, attr, argv, envp);
    return real_posix_spawnp(pid, file, actions, attr, argv, envp);
}
