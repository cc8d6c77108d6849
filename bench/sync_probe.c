/* See sync_probe.h. Loaded into processes that are not ours to change, so it
 * does nothing at all unless $HB_SYNC_PROBE_DIR is set, and never fails the
 * call it wraps. */
#include "sync_probe.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

typedef int (*sync_fn)(int);

static hb_sync_counts_t *counts;

__attribute__((constructor)) static void probe_init(void)
{
    const char *dir = getenv("HB_SYNC_PROBE_DIR");
    if (!dir || !*dir)
        return;
    char path[512];
    snprintf(path, sizeof path, "%s/sync.%d", dir, (int)getpid());
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        return;
    if (ftruncate(fd, sizeof *counts) == 0) {
        void *p = mmap(NULL, sizeof *counts, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (p != MAP_FAILED)
            counts = p;
    }
    close(fd);
}

static sync_fn next_fn(const char *name)
{
    sync_fn fn;
    void *sym = dlsym(RTLD_NEXT, name);
    *(void **)&fn = sym;
    return fn;
}

static int timed_sync(sync_fn fn, int fd)
{
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    int rc = fn(fd);
    clock_gettime(CLOCK_MONOTONIC, &b);
    if (counts) {
        uint64_t ns = (uint64_t)((b.tv_sec - a.tv_sec) * 1000000000L + (b.tv_nsec - a.tv_nsec));
        if ((pid_t)syscall(SYS_gettid) == getpid()) {
            __atomic_fetch_add(&counts->main_syncs, 1, __ATOMIC_RELAXED);
            __atomic_fetch_add(&counts->main_ns, ns, __ATOMIC_RELAXED);
        } else {
            __atomic_fetch_add(&counts->other_syncs, 1, __ATOMIC_RELAXED);
            __atomic_fetch_add(&counts->other_ns, ns, __ATOMIC_RELAXED);
        }
    }
    return rc;
}

int fdatasync(int fd)
{
    static sync_fn real;
    if (!real)
        real = next_fn("fdatasync");
    return timed_sync(real, fd);
}

int fsync(int fd)
{
    static sync_fn real;
    if (!real)
        real = next_fn("fsync");
    return timed_sync(real, fd);
}
