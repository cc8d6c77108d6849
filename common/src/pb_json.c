#include "hallbus/pb_json.h"

#include <assert.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ── strings and bytes ───────────────────────────────────────────────────── */

/* Length of the valid UTF-8 sequence at S (at most LEFT bytes), or 0 if the
 * byte there starts none: as strict as jansson, which refuses overlong forms,
 * surrogates and code points above U+10FFFF. */
static size_t utf8_seq_len(const unsigned char *s, size_t left)
{
    unsigned char c = s[0];
    size_t n;
    uint32_t cp;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf) {
        n = 2;
        cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if (n > left)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
        (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return n;
}

/* A JSON string for LEN bytes at S. Text from the wire is not trusted to be
 * UTF-8; rather than drop the field, each bad byte becomes U+FFFD, so that a
 * reader still sees that something was there. */
static json_t *string_json(const char *s, size_t len)
{
    json_t *j = json_stringn(s, len);
    if (j)
        return j;
    char *fixed = malloc(len * 3 + 1);
    if (!fixed)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < len;) {
        size_t n = utf8_seq_len((const unsigned char *)s + i, len - i);
        if (n == 0) {
            memcpy(fixed + o, "\xef\xbf\xbd", 3);
            o += 3;
            i++;
        } else {
            memcpy(fixed + o, s + i, n);
            o += n;
            i += n;
        }
    }
    j = json_stringn(fixed, o);
    free(fixed);
    return j;
}

static json_t *bytes_json(const ProtobufCBinaryData *b)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t out_len = (b->len + 2) / 3 * 4;
    char *out = malloc(out_len + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < b->len; i += 3) {
        uint32_t v = (uint32_t)b->data[i] << 16;
        if (i + 1 < b->len)
            v |= (uint32_t)b->data[i + 1] << 8;
        if (i + 2 < b->len)
            v |= b->data[i + 2];
        out[o++] = alphabet[(v >> 18) & 63];
        out[o++] = alphabet[(v >> 12) & 63];
        out[o++] = i + 1 < b->len ? alphabet[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < b->len ? alphabet[v & 63] : '=';
    }
    json_t *j = json_stringn(out, o);
    free(out);
    return j;
}

/* JSON has no NaN or infinity; proto3's mapping spells them as strings. */
static json_t *real_json(double d)
{
    if (isnan(d))
        return json_string("NaN");
    if (isinf(d))
        return json_string(d > 0 ? "Infinity" : "-Infinity");
    return json_real(d);
}

/* ── fields ──────────────────────────────────────────────────────────────── */

static json_t *message_json(const ProtobufCMessage *msg);

/* Bytes one element of a field of type TYPE takes in a repeated array. */
static size_t element_size(ProtobufCType type)
{
    switch (type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        return sizeof(uint32_t);
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        return sizeof(uint64_t);
    case PROTOBUF_C_TYPE_FLOAT:
        return sizeof(float);
    case PROTOBUF_C_TYPE_DOUBLE:
        return sizeof(double);
    case PROTOBUF_C_TYPE_BOOL:
        return sizeof(protobuf_c_boolean);
    case PROTOBUF_C_TYPE_ENUM:
        return sizeof(int);
    case PROTOBUF_C_TYPE_STRING:
        return sizeof(char *);
    case PROTOBUF_C_TYPE_BYTES:
        return sizeof(ProtobufCBinaryData);
    case PROTOBUF_C_TYPE_MESSAGE:
        return sizeof(ProtobufCMessage *);
    }
    return 0;
}

/* One value of field F stored at P (memcpy: P may be unaligned in theory). */
static json_t *value_json(const ProtobufCFieldDescriptor *f, const void *p)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32: {
        int32_t v;
        memcpy(&v, p, sizeof v);
        return json_integer(v);
    }
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32: {
        uint32_t v;
        memcpy(&v, p, sizeof v);
        return json_integer((json_int_t)v);
    }
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64: {
        int64_t v;
        memcpy(&v, p, sizeof v);
        return json_integer((json_int_t)v);
    }
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64: {
        uint64_t v;
        memcpy(&v, p, sizeof v);
        if (v <= INT64_MAX)
            return json_integer((json_int_t)v);
        char digits[24];
        snprintf(digits, sizeof digits, "%llu", (unsigned long long)v);
        return json_string(digits);
    }
    case PROTOBUF_C_TYPE_FLOAT: {
        float v;
        memcpy(&v, p, sizeof v);
        return real_json(v);
    }
    case PROTOBUF_C_TYPE_DOUBLE: {
        double v;
        memcpy(&v, p, sizeof v);
        return real_json(v);
    }
    case PROTOBUF_C_TYPE_BOOL: {
        protobuf_c_boolean v;
        memcpy(&v, p, sizeof v);
        return json_boolean(v);
    }
    case PROTOBUF_C_TYPE_ENUM: {
        int v;
        memcpy(&v, p, sizeof v);
        const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value(f->descriptor, v);
        return ev ? json_string(ev->name) : json_integer(v);
    }
    case PROTOBUF_C_TYPE_STRING: {
        const char *v;
        memcpy(&v, p, sizeof v);
        return v ? string_json(v, strlen(v)) : json_string("");
    }
    case PROTOBUF_C_TYPE_BYTES: {
        ProtobufCBinaryData v;
        memcpy(&v, p, sizeof v);
        return bytes_json(&v);
    }
    case PROTOBUF_C_TYPE_MESSAGE: {
        const ProtobufCMessage *v;
        memcpy(&v, p, sizeof v);
        return v ? message_json(v) : json_null();
    }
    }
    return json_null();
}

/* Whether a singular proto3 field holds its type's default, and is omitted. */
static bool is_default(const ProtobufCFieldDescriptor *f, const void *p)
{
    static const unsigned char zeros[sizeof(ProtobufCBinaryData)];
    switch (f->type) {
    case PROTOBUF_C_TYPE_FLOAT: {
        float v;
        memcpy(&v, p, sizeof v);
        return v == 0;
    }
    case PROTOBUF_C_TYPE_DOUBLE: {
        double v;
        memcpy(&v, p, sizeof v);
        return v == 0;
    }
    case PROTOBUF_C_TYPE_STRING: {
        const char *v;
        memcpy(&v, p, sizeof v);
        return v == NULL || v[0] == '\0';
    }
    case PROTOBUF_C_TYPE_BYTES: {
        ProtobufCBinaryData v;
        memcpy(&v, p, sizeof v);
        return v.len == 0;
    }
    default: /* integers, bool, enum, message pointer: all bits zero */
        return memcmp(p, zeros, element_size(f->type)) == 0;
    }
}

/* Whether field F of the message at BASE is to be emitted. */
static bool is_present(const ProtobufCFieldDescriptor *f, const char *base)
{
    const void *p = base + f->offset;
    if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
        uint32_t which;
        memcpy(&which, base + f->quantifier_offset, sizeof which);
        return which == f->id;
    }
    switch (f->label) {
    case PROTOBUF_C_LABEL_REQUIRED:
        return true;
    case PROTOBUF_C_LABEL_OPTIONAL:
        /* proto2: strings and messages are present when set (a string left
         * at its declared default counts as unset); the rest have has_ */
        if (f->type == PROTOBUF_C_TYPE_STRING || f->type == PROTOBUF_C_TYPE_MESSAGE) {
            const void *v;
            memcpy(&v, p, sizeof v);
            return v != NULL && v != f->default_value;
        } else {
            protobuf_c_boolean has;
            memcpy(&has, base + f->quantifier_offset, sizeof has);
            return has;
        }
    case PROTOBUF_C_LABEL_NONE:
        return !is_default(f, p);
    case PROTOBUF_C_LABEL_REPEATED:
        break;
    }
    return false;
}

static json_t *repeated_json(const ProtobufCFieldDescriptor *f, const char *base)
{
    size_t n;
    const char *items;
    memcpy(&n, base + f->quantifier_offset, sizeof n);
    memcpy(&items, base + f->offset, sizeof items);
    json_t *arr = json_array();
    if (!arr)
        return NULL;
    size_t size = element_size(f->type);
    for (size_t i = 0; i < n && items; i++) {
        if (json_array_append_new(arr, value_json(f, items + i * size)) != 0) {
            json_decref(arr);
            return NULL;
        }
    }
    return arr;
}

static json_t *message_json(const ProtobufCMessage *msg)
{
    const ProtobufCMessageDescriptor *d = msg->descriptor;
    assert(d && d->magic == PROTOBUF_C__MESSAGE_DESCRIPTOR_MAGIC);
    const char *base = (const char *)msg;
    json_t *obj = json_object();
    if (!obj)
        return NULL;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        json_t *v;
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            size_t n;
            memcpy(&n, base + f->quantifier_offset, sizeof n);
            if (n == 0)
                continue;
            v = repeated_json(f, base);
        } else {
            if (!is_present(f, base))
                continue;
            v = value_json(f, base + f->offset);
        }
        /* json_object_set_new takes V even when it fails, and refuses NULL */
        if (json_object_set_new(obj, f->name, v) != 0) {
            json_decref(obj);
            return NULL;
        }
    }
    return obj;
}

json_t *hb_pb_to_json(const ProtobufCMessage *msg)
{
    assert(msg);
    return message_json(msg);
}
