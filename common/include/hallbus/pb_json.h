/* Any protobuf-c message as a jansson value, driven by its descriptor, so
 * that tools print every message of the wire contract (and of any newer one)
 * without a line of per-message code.
 *
 * The mapping follows proto3's JSON mapping except where scripts are better
 * served otherwise:
 *   - keys are the field names as written in the .proto ("estimated_wait_s"),
 *     not lowerCamelCase;
 *   - 64-bit integers are JSON integers, not strings; only a uint64 above
 *     INT64_MAX, which a JSON integer here cannot hold, becomes a decimal
 *     string;
 *   - enums are their value names ("WAITING"); a number this build does not
 *     know (a newer peer) stays a number;
 *   - bytes are base64 (RFC 4648, padded); strings that are not valid UTF-8
 *     have each bad byte replaced by U+FFFD, since JSON text must be UTF-8;
 *   - float and double NaN and infinities are the strings "NaN", "Infinity",
 *     "-Infinity";
 *   - proto3 fields holding their default (0, "", false, empty repeated, an
 *     absent message) are omitted, as the canonical mapping does; a oneof
 *     member is emitted whenever it is the set one, even if empty or zero;
 *     proto2 optional fields are emitted when present;
 *   - unknown fields are ignored; map fields come out as arrays of
 *     {"key", "value"} objects, as protobuf-c stores them. */
#ifndef HALLBUS_PB_JSON_H
#define HALLBUS_PB_JSON_H

#include <jansson.h>
#include <protobuf-c/protobuf-c.h>

/* Returns a new JSON object for MSG; the caller owns it (json_decref).
 * NULL only when memory runs out. */
json_t *hb_pb_to_json(const ProtobufCMessage *msg);

#endif
