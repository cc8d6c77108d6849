#include "small_disk.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

int hb_small_disk_mount(hb_small_disk_t *d, const char *dir, const char *size, char *why,
                        size_t whylen)
{
    memset(d, 0, sizeof *d);
    snprintf(d->path, sizeof d->path, "%.200s/disk", dir);
    snprintf(d->filler, sizeof d->filler, "%s/filler", d->path);
    mkdir(d->path, 0755);
    char opts[64];
    snprintf(opts, sizeof opts, "size=%s", size);
    if (mount("tmpfs", d->path, "tmpfs", 0, opts) != 0) {
        snprintf(why, whylen, "cannot mount a tmpfs to fill (%s): needs root", strerror(errno));
        return -1;
    }
    d->mounted = true;
    return 0;
}

int hb_small_disk_fill(hb_small_disk_t *d)
{
    int fd = open(d->filler, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        return -1;
    static char block[16384];
    while (write(fd, block, sizeof block) > 0)
        ;
    while (write(fd, block, 512) > 0)
        ;
    int full = errno == ENOSPC;
    close(fd);
    return full ? 0 : -1;
}

int hb_small_disk_unfill(hb_small_disk_t *d)
{
    return unlink(d->filler);
}

void hb_small_disk_umount(hb_small_disk_t *d)
{
    if (d->mounted)
        umount2(d->path, MNT_DETACH);
    d->mounted = false;
}

bool hb_file_contains(const char *path, const char *text)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc(size > 0 ? (size_t)size + 1 : 1);
    size_t n = buf ? fread(buf, 1, size > 0 ? (size_t)size : 0, f) : 0;
    fclose(f);
    if (!buf)
        return false;
    buf[n] = '\0';
    bool found = strstr(buf, text) != NULL;
    free(buf);
    return found;
}
