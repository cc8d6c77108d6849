/* hb_pb_check_strings on wire bytes, hb_utf8_valid on byte strings. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "hallbus.pb-c.h"
#include "hallbus/pb_check.h"

static uint8_t *pack(const Hallbus__Request *req, size_t *len)
{
    *len = hallbus__request__get_packed_size(req);
    uint8_t *buf = malloc(*len ? *len : 1);
    hallbus__request__pack(req, buf);
    return buf;
}

Test(utf8, accepts_valid_text_and_refuses_what_rfc3629_forbids)
{
#define V(s) hb_utf8_valid((const uint8_t *)(s), sizeof(s) - 1)
    cr_assert(V(""));
    cr_assert(V("plain ascii"));
    cr_assert(V("午休 café 🙂"));
    cr_assert(V("\xf4\x8f\xbf\xbf")); /* U+10FFFF */
    cr_assert_not(V("\xff"));
    cr_assert_not(V("\xc0\xaf"));         /* overlong "/" */
    cr_assert_not(V("\xe0\x80\xaf"));     /* overlong */
    cr_assert_not(V("\xed\xa0\x80"));     /* surrogate U+D800 */
    cr_assert_not(V("\xf4\x90\x80\x80")); /* above U+10FFFF */
    cr_assert_not(V("\xe5\x8d"));         /* truncated */
    cr_assert_not(V("a\x80"));            /* lone continuation */
#undef V
}

Test(pb_check, a_valid_request_passes)
{
    Hallbus__Request req = HALLBUS__REQUEST__INIT;
    Hallbus__PauseWindow p = HALLBUS__PAUSE_WINDOW__INIT;
    p.window = 3;
    p.reason = "午休";
    req.actor = "ann";
    req.command_case = HALLBUS__REQUEST__COMMAND_PAUSE_WINDOW;
    req.pause_window = &p;
    size_t len;
    uint8_t *buf = pack(&req, &len);
    char why[128] = "";
    cr_assert_eq(hb_pb_check_strings(buf, len, &hallbus__request__descriptor, why, sizeof why), 0,
                 "%s", why);
    free(buf);
}

Test(pb_check, names_the_nested_field_with_invalid_utf8)
{
    Hallbus__Request req = HALLBUS__REQUEST__INIT;
    Hallbus__PauseWindow p = HALLBUS__PAUSE_WINDOW__INIT;
    p.reason = "bad\xc3";
    req.command_case = HALLBUS__REQUEST__COMMAND_PAUSE_WINDOW;
    req.pause_window = &p;
    size_t len;
    uint8_t *buf = pack(&req, &len);
    char why[128] = "";
    cr_assert_eq(hb_pb_check_strings(buf, len, &hallbus__request__descriptor, why, sizeof why), -1);
    cr_assert_str_eq(why, "pause_window.reason: not valid UTF-8");
    free(buf);
}

Test(pb_check, finds_a_nul_that_the_unpacked_c_string_hides)
{
    Hallbus__Request req = HALLBUS__REQUEST__INIT;
    req.actor = "ann#bob";
    size_t len;
    uint8_t *buf = pack(&req, &len);
    uint8_t *hash = memchr(buf, '#', len);
    cr_assert_not_null(hash);
    *hash = '\0';
    Hallbus__Request *back = hallbus__request__unpack(NULL, len, buf);
    cr_assert_not_null(back, "protobuf-c accepts it");
    cr_assert_str_eq(back->actor, "ann", "and the C string is cut at the NUL");
    hallbus__request__free_unpacked(back, NULL);
    char why[128] = "";
    cr_assert_eq(hb_pb_check_strings(buf, len, &hallbus__request__descriptor, why, sizeof why), -1);
    cr_assert_str_eq(why, "actor: contains a NUL byte");
    free(buf);
}

Test(pb_check, indexes_repeated_strings_and_ignores_bytes_fields)
{
    Hallbus__Envelope env = HALLBUS__ENVELOPE__INIT;
    Hallbus__DailyReset reset = HALLBUS__DAILY_RESET__INIT;
    char *numbers[] = {"A001", "A\xff"};
    reset.n_expired_numbers = 2;
    reset.expired_numbers = numbers;
    env.event_case = HALLBUS__ENVELOPE__EVENT_DAILY_RESET;
    env.daily_reset = &reset;
    size_t len = hallbus__envelope__get_packed_size(&env);
    uint8_t *buf = malloc(len);
    hallbus__envelope__pack(&env, buf);
    char why[128] = "";
    cr_assert_eq(hb_pb_check_strings(buf, len, &hallbus__envelope__descriptor, why, sizeof why),
                 -1);
    cr_assert_str_eq(why, "daily_reset.expired_numbers[1]: not valid UTF-8");
    free(buf);

    /* a bytes field may hold anything */
    Hallbus__EventBatch batch = HALLBUS__EVENT_BATCH__INIT;
    ProtobufCBinaryData blob = {3, (uint8_t *)"\xff\x00\xfe"};
    batch.n_envelopes = 1;
    batch.envelopes = &blob;
    len = hallbus__event_batch__get_packed_size(&batch);
    buf = malloc(len);
    hallbus__event_batch__pack(&batch, buf);
    cr_assert_eq(hb_pb_check_strings(buf, len, &hallbus__event_batch__descriptor, why, sizeof why),
                 0, "%s", why);
    free(buf);
}

Test(pb_check, malformed_bytes_are_refused_without_reading_past_the_end)
{
    const uint8_t truncated[] = {0x62, 0x10, 'a'}; /* a field claiming 16 bytes, with 1 */
    char why[128] = "";
    cr_assert_eq(hb_pb_check_strings(truncated, sizeof truncated, &hallbus__request__descriptor,
                                     why, sizeof why),
                 -1);
    cr_assert(strstr(why, "truncated"), "%s", why);
}
