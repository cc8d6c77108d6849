/* A small file system for disk-full tests: a tmpfs mounted under a test's
 * directory (root only), and a filler file that takes its last byte. */
#ifndef HALLBUS_TEST_SMALL_DISK_H
#define HALLBUS_TEST_SMALL_DISK_H

#include <stdbool.h>
#include <stddef.h>

typedef struct {
    char path[256];   /* the mount point: put the store under it */
    char filler[280]; /* the file that fills it */
    bool mounted;
} hb_small_disk_t;

/* Mounts a tmpfs of SIZE ("2m") at DIR/disk. 0, or -1 with WHY (to skip the
 * test with: mounting needs root). */
int hb_small_disk_mount(hb_small_disk_t *d, const char *dir, const char *size, char *why,
                        size_t whylen);
/* Writes the filler until the file system says ENOSPC. 0, or -1 on any other
 * error. */
int hb_small_disk_fill(hb_small_disk_t *d);
/* Deletes the filler: there is room again. 0 or -1. */
int hb_small_disk_unfill(hb_small_disk_t *d);
/* Unmounts (lazily); safe to call twice. */
void hb_small_disk_umount(hb_small_disk_t *d);

/* Whether the file at PATH contains TEXT (a daemon's log). */
bool hb_file_contains(const char *path, const char *text);

#endif
