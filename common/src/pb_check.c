/* Walks protobuf wire bytes with the message's descriptor, checking every
 * length-delimited field the descriptor calls a string and descending into
 * every field it calls a message. Unknown fields are skipped: a newer
 * client's additions are not this reader's to judge. */
#include "hallbus/pb_check.h"

#include <stdio.h>
#include <string.h>

/* protobuf-c itself refuses deeper nesting long before this */
#define CHECK_DEPTH_MAX 32
#define PATH_MAX_LEN 160

int hb_utf8_valid(const uint8_t *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        uint8_t c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t n;
        uint8_t lo = 0x80, hi = 0xBF;
        if (c >= 0xC2 && c <= 0xDF)
            n = 1;
        else if (c >= 0xE0 && c <= 0xEF) {
            n = 2;
            if (c == 0xE0)
                lo = 0xA0; /* overlong */
            else if (c == 0xED)
                hi = 0x9F; /* surrogates */
        } else if (c >= 0xF0 && c <= 0xF4) {
            n = 3;
            if (c == 0xF0)
                lo = 0x90; /* overlong */
            else if (c == 0xF4)
                hi = 0x8F; /* above U+10FFFF */
        } else
            return 0;
        if (len - i - 1 < n)
            return 0;
        if (s[i + 1] < lo || s[i + 1] > hi)
            return 0;
        for (size_t k = 2; k <= n; k++)
            if ((s[i + k] & 0xC0) != 0x80)
                return 0;
        i += n + 1;
    }
    return 1;
}

typedef struct {
    const uint8_t *p, *end;
} cursor_t;

static int read_varint(cursor_t *c, uint64_t *out)
{
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (c->p >= c->end)
            return -1;
        uint8_t b = *c->p++;
        v |= (uint64_t)(b & 0x7F) << shift;
        if (!(b & 0x80)) {
            *out = v;
            return 0;
        }
    }
    return -1;
}

static int skip(cursor_t *c, size_t n)
{
    if ((size_t)(c->end - c->p) < n)
        return -1;
    c->p += n;
    return 0;
}

typedef struct {
    char *why;
    size_t whylen;
    char path[PATH_MAX_LEN];
} check_t;

static int fail(check_t *k, const char *what)
{
    if (k->why && k->whylen)
        snprintf(k->why, k->whylen, "%s%s%s", k->path, k->path[0] ? ": " : "", what);
    return -1;
}

/* Appends ".name" or ".name[i]" to the path for the field being looked at;
 * returns the old length so the caller can cut it back. */
static size_t path_push(check_t *k, const ProtobufCFieldDescriptor *f, long index)
{
    size_t old = strlen(k->path);
    size_t room = sizeof k->path - old;
    if (index >= 0)
        snprintf(k->path + old, room, "%s%s[%ld]", old ? "." : "", f->name, index);
    else
        snprintf(k->path + old, room, "%s%s", old ? "." : "", f->name);
    return old;
}

static int check_message(check_t *k, const uint8_t *data, size_t len,
                         const ProtobufCMessageDescriptor *d, int depth)
{
    if (depth > CHECK_DEPTH_MAX)
        return fail(k, "nested too deeply");
    /* how many times each repeated field was seen so far, for the path */
    unsigned seen[256] = {0};
    cursor_t c = {data, data + len};
    while (c.p < c.end) {
        uint64_t key;
        if (read_varint(&c, &key) != 0)
            return fail(k, "malformed field key");
        uint32_t number = (uint32_t)(key >> 3);
        unsigned wire = (unsigned)(key & 7);
        uint64_t v;
        switch (wire) {
        case 0:
            if (read_varint(&c, &v) != 0)
                return fail(k, "malformed varint");
            continue;
        case 1:
            if (skip(&c, 8) != 0)
                return fail(k, "truncated fixed64");
            continue;
        case 5:
            if (skip(&c, 4) != 0)
                return fail(k, "truncated fixed32");
            continue;
        case 2:
            break;
        default: /* groups (3, 4) are proto2-only and unused by hallbus */
            return fail(k, "unsupported wire type");
        }
        if (read_varint(&c, &v) != 0 || v > (uint64_t)(c.end - c.p))
            return fail(k, "truncated length-delimited field");
        const uint8_t *body = c.p;
        c.p += v;
        const ProtobufCFieldDescriptor *f =
            number ? protobuf_c_message_descriptor_get_field(d, (unsigned)number) : NULL;
        if (!f || (f->type != PROTOBUF_C_TYPE_STRING && f->type != PROTOBUF_C_TYPE_MESSAGE))
            continue; /* bytes, packed numbers, or a field this build does not know */
        long index = -1;
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            size_t fi = (size_t)(f - d->fields);
            index = fi < sizeof seen / sizeof seen[0] ? (long)seen[fi]++ : 0;
        }
        size_t old = path_push(k, f, index);
        int rc = 0;
        if (f->type == PROTOBUF_C_TYPE_STRING) {
            if (memchr(body, 0, (size_t)v))
                rc = fail(k, "contains a NUL byte");
            else if (!hb_utf8_valid(body, (size_t)v))
                rc = fail(k, "not valid UTF-8");
        } else {
            rc = check_message(k, body, (size_t)v, f->descriptor, depth + 1);
        }
        if (rc != 0)
            return rc;
        k->path[old] = '\0';
    }
    return 0;
}

int hb_pb_check_strings(const uint8_t *data, size_t len, const ProtobufCMessageDescriptor *d,
                        char *why, size_t whylen)
{
    check_t k = {why, whylen, ""};
    if (!data && len)
        return fail(&k, "no bytes");
    return check_message(&k, data ? data : (const uint8_t *)"", len, d, 0);
}
