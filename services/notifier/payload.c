#include "payload.h"

#include <ctype.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hallbus/config_notifier.h"
#include "hallbus/pb_json.h"
#include "notifier.pb-c.h"

const char *nt_channel_name(nt_channel_t ch)
{
    static const char *const names[] = {"webhook", "sms", "command"};
    return ch >= 0 && ch < NT_CHANNELS ? names[ch] : "none";
}

static int phone_digits(const char *c)
{
    int digits = 0;
    const char *p = c;
    if (*p == '+')
        p++;
    for (; *p; p++) {
        if (isdigit((unsigned char)*p))
            digits++;
        else if (*p != ' ' && *p != '-')
            return -1;
    }
    return digits;
}

nt_channel_t nt_contact_channel(const char *contact)
{
    if (strncmp(contact, "http://", 7) == 0 || strncmp(contact, "https://", 8) == 0)
        return NT_CH_WEBHOOK;
    int digits = phone_digits(contact);
    if (digits >= 6 && digits <= 20)
        return NT_CH_SMS;
    return NT_CH_COMMAND;
}

void nt_mask_contact(const char *contact, char *out, size_t outlen)
{
    if (!contact || !*contact) {
        snprintf(out, outlen, "(none)");
        return;
    }
    nt_channel_t ch = nt_contact_channel(contact);
    if (ch == NT_CH_WEBHOOK) {
        const char *host = strstr(contact, "://") + 3;
        size_t len = strcspn(host, "/?#");
        snprintf(out, outlen, "%.*s%.*s/…", (int)(host - contact), contact, (int)len, host);
        return;
    }
    if (ch == NT_CH_SMS) {
        char digits[24];
        int n = 0;
        for (const char *p = contact; *p && n < 23; p++)
            if (isdigit((unsigned char)*p))
                digits[n++] = *p;
        digits[n] = '\0';
        int head = n >= 11 ? 3 : 2, tail = n >= 11 ? 4 : 2;
        snprintf(out, outlen, "%.*s****%s", head, digits, digits + n - tail);
        return;
    }
    snprintf(out, outlen, "%.2s***", contact);
}

char *nt_payload_body(const nt_msg_t *m, const char *language, const char *to, uint32_t attempt,
                      int64_t now_us)
{
    Hallbus__NotifyMessage msg = HALLBUS__NOTIFY_MESSAGE__INIT;
    msg.id = m->key;
    msg.hall = m->hall;
    msg.seq = m->seq;
    msg.kind = (char *)hb_note_kind_name(m->kind);
    if (!msg.kind)
        msg.kind = "unknown";
    msg.ticket = m->ticket;
    msg.business_date = m->business_date;
    msg.language = (char *)language;
    msg.text = strcmp(language, "en") == 0 ? m->text_en : m->text_zh;
    msg.text_zh = m->text_zh;
    msg.text_en = m->text_en;
    msg.event_ts = m->event_ts;
    msg.deadline = m->deadline;
    msg.sent_at = now_us;
    msg.attempt = attempt;
    msg.to = (char *)(to ? to : "");

    /* the fields, from the JSON object the outbox keeps */
    json_t *fields = json_loads(m->fields_json, 0, NULL);
    size_t n = json_is_object(fields) ? json_object_size(fields) : 0;
    Hallbus__NotifyField *items = calloc(n ? n : 1, sizeof *items);
    Hallbus__NotifyField **ptrs = calloc(n ? n : 1, sizeof *ptrs);
    size_t i = 0;
    const char *name;
    json_t *value;
    if (items && ptrs && n) {
        json_object_foreach(fields, name, value)
        {
            hallbus__notify_field__init(&items[i]);
            items[i].name = (char *)name;
            items[i].value = (char *)(json_is_string(value) ? json_string_value(value) : "");
            ptrs[i] = &items[i];
            i++;
        }
    }
    msg.n_fields = i;
    msg.fields = ptrs;
    json_t *doc = hb_pb_to_json(&msg.base);
    char *body = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    json_decref(doc);
    json_decref(fields);
    free(items);
    free(ptrs);
    return body;
}

void nt_sign(const char *secret, const char *body, size_t len, char *out, size_t outlen)
{
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, (const unsigned char *)secret, strlen(secret));
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)body, len);
    crypto_auth_hmacsha256_final(&st, mac);
    char hex[crypto_auth_hmacsha256_BYTES * 2 + 1];
    sodium_bin2hex(hex, sizeof hex, mac, sizeof mac);
    snprintf(out, outlen, "sha256=%s", hex);
}
