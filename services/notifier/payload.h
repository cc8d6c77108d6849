/* What leaves the notifier: which channel a contact goes through, the JSON
 * body (a NotifyMessage, proto/notifier.proto), its signature, and the
 * masked form of a contact that is all a log line may show. */
#ifndef NOTIFIER_PAYLOAD_H
#define NOTIFIER_PAYLOAD_H

#include <stddef.h>
#include <stdint.h>

#include "outbox.h"

typedef enum { NT_CH_WEBHOOK = 0, NT_CH_SMS, NT_CH_COMMAND, NT_CHANNELS } nt_channel_t;

const char *nt_channel_name(nt_channel_t ch);

/* A URL (http:// or https://) is a webhook; a phone number (an optional
 * "+", then 6 to 20 digits, spaces and dashes allowed) goes to the SMS
 * gateway; anything else to the local command. */
nt_channel_t nt_contact_channel(const char *contact);

/* "138****8000" for a phone, "https://host/…" for a URL, "ab***" else. */
void nt_mask_contact(const char *contact, char *out, size_t outlen);

/* The JSON body for MSG's attempt ATTEMPT (caller frees). TO is put in for
 * the SMS gateway only (NULL otherwise). */
char *nt_payload_body(const nt_msg_t *msg, const char *language, const char *to, uint32_t attempt,
                      int64_t now_us);

/* "sha256=<64 hex>" of HMAC-SHA256(SECRET, BODY) into OUT (at least 72). */
void nt_sign(const char *secret, const char *body, size_t len, char *out, size_t outlen);

#endif
