/* libFuzzer: the envelope and request decoders take any bytes without
 * crashing, and whatever they accept names a kind and re-encodes; the string
 * check walks any bytes as any message type without crashing. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "hallbus/envelope.h"
#include "hallbus/pb_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    Hallbus__Envelope *env = NULL;
    if (hb_envelope_decode(data, size, &env, NULL) == HB_DECODE_OK) {
        (void)hb_event_kind(env);
        size_t len = hallbus__envelope__get_packed_size(env);
        uint8_t *buf = malloc(len ? len : 1);
        hallbus__envelope__pack(env, buf);
        free(buf);
        hallbus__envelope__free_unpacked(env, NULL);
    }
    Hallbus__Request *req = NULL;
    const char *why = NULL;
    int rc = hb_request_decode(data, size, &req, &why);
    if (rc == HB_DECODE_OK)
        (void)hb_command_name(req);
    if (rc == HB_DECODE_INVALID && (!why || !*why))
        abort(); /* a refusal must name what it refuses */
    if (req)
        hallbus__request__free_unpacked(req, NULL);
    char reason[HB_DECODE_WHY_MAX];
    (void)hb_pb_check_strings(data, size, &hallbus__envelope__descriptor, reason, sizeof reason);
    (void)hb_pb_check_strings(data, size, &hallbus__reply__descriptor, reason, sizeof reason);
    return 0;
}
