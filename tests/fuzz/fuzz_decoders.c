/* libFuzzer: the envelope and request decoders take any bytes without
 * crashing, and whatever they accept names a kind and re-encodes. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "hallbus/envelope.h"

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
    if (hb_request_decode(data, size, &req, NULL) == HB_DECODE_OK) {
        (void)hb_command_name(req);
        hallbus__request__free_unpacked(req, NULL);
    }
    return 0;
}
