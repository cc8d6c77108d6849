/* The request_id field of any protobuf-c message, found through its
 * descriptor: what lets the clients and the server be generic over message
 * types (Hallbus Request/Reply, AuditRequest/AuditReply, ...). Internal to
 * common/. */
#ifndef HALLBUS_REQUEST_ID_H
#define HALLBUS_REQUEST_ID_H

#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The descriptor's "request_id" field when it is a uint64, else NULL. */
const ProtobufCFieldDescriptor *hb_request_id_field(const ProtobufCMessageDescriptor *desc);

uint64_t hb_request_id_get(const ProtobufCMessage *msg, const ProtobufCFieldDescriptor *field);
void hb_request_id_set(ProtobufCMessage *msg, const ProtobufCFieldDescriptor *field, uint64_t id);

/* Reads field FIELD_NUMBER (a varint) from the top level of the encoded
 * message DATA without decoding the rest: the id of a reply too large or
 * too broken to decode. False when it is not there or DATA is not even
 * well-formed up to it. */
bool hb_request_id_scan(const uint8_t *data, size_t len, uint32_t field_number, uint64_t *id);

/* An id unlike any earlier run's or another client's of this process, so a
 * stale reply is never taken for a fresh one. */
uint64_t hb_request_id_first(const void *salt);

#endif
