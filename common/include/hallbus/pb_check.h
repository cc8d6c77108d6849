/* Strings a standard protobuf reader will accept: proto3 `string` fields must
 * be valid UTF-8 (Python, Go and Java refuse the whole message otherwise),
 * and hallbus also refuses NUL bytes, which protobuf-c's C strings would
 * silently cut at ("lunch\0HIDDEN" would be stored as "lunch").
 *
 * The check walks the wire bytes, not the unpacked message: only the wire
 * still knows a string's true length once protobuf-c has NUL-terminated it. */
#ifndef HALLBUS_PB_CHECK_H
#define HALLBUS_PB_CHECK_H

#include <protobuf-c/protobuf-c.h>
#include <stddef.h>
#include <stdint.h>

/* Checks every string field of the message of type D encoded in DATA/LEN,
 * in nested messages, repeated fields and oneofs alike. Returns 0 when all
 * are valid UTF-8 without NUL; -1 otherwise, with WHY (if not NULL) naming
 * the field by its path: "pause_window.reason: not valid UTF-8",
 * "issue_ticket.service: contains a NUL byte", "services[1]: ...". Bytes that
 * are not a well-formed message of type D are also -1 ("malformed ..."). */
int hb_pb_check_strings(const uint8_t *data, size_t len, const ProtobufCMessageDescriptor *d,
                        char *why, size_t whylen);

/* Whether LEN bytes at S are valid UTF-8 (RFC 3629: no overlong forms, no
 * surrogates, nothing above U+10FFFF). NUL bytes are valid UTF-8. */
int hb_utf8_valid(const uint8_t *s, size_t len);

#endif
