/* Writing a small file so that a reader sees the old one or the new one,
 * never half of one: a temporary file in the same directory, fsync,
 * rename over the old name, fsync of the directory. */
#ifndef HALLBUS_FILE_ATOMIC_H
#define HALLBUS_FILE_ATOMIC_H

#include <stddef.h>
#include <sys/types.h>

/* Writes LEN bytes of DATA to PATH with MODE (exactly, whatever the umask).
 * 0, or -1 with ERR ("PATH: reason"). */
int hb_file_write_atomic(const char *path, const void *data, size_t len, mode_t mode, char *err,
                         size_t errlen);

/* Creates DIR with MODE and its missing parents with 0755. 0, or -1 with ERR. */
int hb_mkdirs(const char *dir, mode_t mode, char *err, size_t errlen);

#endif
