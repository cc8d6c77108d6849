/* Line numbers for the hall file, found with libyaml's event parser.
 *
 * libcyaml validates structure, but many of our errors are found after it
 * has finished (a window naming an unknown service, a clock time out of
 * range), when no parser position is left. These functions re-read the
 * file and find where a value was written, so every error can carry a line.
 *
 * Key paths are written the way errors name them: "hall.rollover",
 * "services[2].prefix", "windows[0].services[1]". Indexes are 0-based;
 * lines returned are 1-based. Internal to libhallbus. */
#ifndef HALLBUS_CONFIG_LOCATE_H
#define HALLBUS_CONFIG_LOCATE_H

#include <stddef.h>

/* Returns the line of KEY_PATH in FILE: the line of the key for a mapping
 * entry, the line where the entry starts for a sequence entry. When the
 * path is not in the file (a missing field), returns the line of its
 * nearest ancestor that is, so an error can always point somewhere useful;
 * "" is the document itself. Returns 0 only if FILE cannot be read or
 * parsed up to the first node. */
unsigned hb_config_locate(const char *file, const char *key_path);

/* Like hb_config_locate, but for a key given twice in one mapping: returns
 * the line of its second occurrence (the first one if there is no second). */
unsigned hb_config_locate_repeat(const char *file, const char *key_path);

/* Reads FILE through libyaml to the end. Returns 0 if it is well-formed
 * YAML; -1 if it cannot be read (errno tells why); -2 if it is not YAML,
 * with *LINE set to the 1-based line of the problem and PROBLEM to
 * libyaml's description of it. */
int hb_config_check_yaml(const char *file, unsigned *line, char *problem, size_t problem_size);

#endif
