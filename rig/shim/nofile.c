/*
 * Test-only, for rig nodes on their own addresses (--hosts) where the machine's hard limit of open
 * files is below Elasticsearch's bootstrap check (65535) and this process may not raise it (no
 * CAP_SYS_RESOURCE, e.g. a container): getrlimit(RLIMIT_NOFILE) reports at least 65535. The real
 * limit is unchanged; a test node opens far fewer files. Loaded with LD_PRELOAD by rig/nofile.ts
 * only when `prlimit --nofile=65536` fails.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <sys/resource.h>

#define WANT 65535

static void lift(int resource, struct rlimit *rl) {
    if (resource == RLIMIT_NOFILE) {
        if (rl->rlim_cur != RLIM_INFINITY && rl->rlim_cur < WANT) rl->rlim_cur = WANT;
        if (rl->rlim_max != RLIM_INFINITY && rl->rlim_max < WANT) rl->rlim_max = WANT;
    }
}

int getrlimit(__rlimit_resource_t resource, struct rlimit *rl) {
    static int (*real)(__rlimit_resource_t, struct rlimit *);
    if (!real) real = (int (*)(__rlimit_resource_t, struct rlimit *))dlsym(RTLD_NEXT, "getrlimit");
    int rc = real(resource, rl);
    if (rc == 0) lift(resource, rl);
    return rc;
}

int getrlimit64(__rlimit_resource_t resource, struct rlimit64 *rl) {
    static int (*real)(__rlimit_resource_t, struct rlimit64 *);
    if (!real) real = (int (*)(__rlimit_resource_t, struct rlimit64 *))dlsym(RTLD_NEXT, "getrlimit64");
    int rc = real(resource, rl);
    if (rc == 0) lift(resource, (struct rlimit *)rl);
    return rc;
}
