#include "request_id.h"

#include "hallbus/clock.h"

const ProtobufCFieldDescriptor *hb_request_id_field(const ProtobufCMessageDescriptor *desc)
{
    const ProtobufCFieldDescriptor *f =
        desc ? protobuf_c_message_descriptor_get_field_by_name(desc, "request_id") : NULL;
    if (!f || f->type != PROTOBUF_C_TYPE_UINT64 || f->label == PROTOBUF_C_LABEL_REPEATED)
        return NULL;
    return f;
}

uint64_t hb_request_id_get(const ProtobufCMessage *msg, const ProtobufCFieldDescriptor *field)
{
    return *(const uint64_t *)((const char *)msg + field->offset);
}

void hb_request_id_set(ProtobufCMessage *msg, const ProtobufCFieldDescriptor *field, uint64_t id)
{
    *(uint64_t *)((char *)msg + field->offset) = id;
}

/* A varint at *P (at most 10 bytes, within END); advances *P. */
static bool varint(const uint8_t **p, const uint8_t *end, uint64_t *out)
{
    uint64_t v = 0;
    for (int shift = 0; shift < 70 && *p < end; shift += 7) {
        uint8_t b = *(*p)++;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *out = v;
            return true;
        }
    }
    return false;
}

bool hb_request_id_scan(const uint8_t *data, size_t len, uint32_t field_number, uint64_t *id)
{
    const uint8_t *p = data, *end = data + len;
    while (p < end) {
        uint64_t key, v;
        if (!varint(&p, end, &key))
            return false;
        uint32_t number = (uint32_t)(key >> 3);
        switch (key & 7) {
        case 0: /* varint */
            if (!varint(&p, end, &v))
                return false;
            if (number == field_number) {
                *id = v;
                return true;
            }
            break;
        case 1: /* 64-bit */
            if ((size_t)(end - p) < 8)
                return false;
            p += 8;
            break;
        case 2: /* length-delimited */
            if (!varint(&p, end, &v) || v > (uint64_t)(end - p))
                return false;
            p += v;
            break;
        case 5: /* 32-bit */
            if ((size_t)(end - p) < 4)
                return false;
            p += 4;
            break;
        default: /* groups, or not protobuf at all */
            return false;
        }
    }
    return false;
}

uint64_t hb_request_id_first(const void *salt)
{
    return ((uint64_t)hb_now_us() << 8) ^ (uint64_t)(uintptr_t)salt;
}
