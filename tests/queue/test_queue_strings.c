/* Strings that standard protobuf readers refuse (invalid UTF-8) or that
 * protobuf-c would cut short (a NUL inside) are refused at hall-queue's edge,
 * naming the field, and nothing of them is stored or published. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"

static hb_fixture_t fx;

static void start(void)
{
    cr_assert_eq(hb_fixture_start(&fx, NULL), 0, "the hall did not start");
}

static void cleanup(void)
{
    hb_fixture_stop(&fx);
}

/* Packs REQ, then replaces the first occurrence of MARK in the bytes with
 * WITH (same length): how a hostile client writes what protobuf-c cannot. */
static uint8_t *pack_patched(const Hallbus__Request *req, const char *mark, const char *with,
                             size_t *len)
{
    *len = hallbus__request__get_packed_size(req);
    uint8_t *buf = malloc(*len);
    hallbus__request__pack(req, buf);
    size_t n = strlen(mark);
    for (size_t i = 0; i + n <= *len; i++)
        if (memcmp(buf + i, mark, n) == 0) {
            memcpy(buf + i, with, n);
            return buf;
        }
    cr_assert_fail("mark %s not in the packed request", mark);
    return NULL;
}

static Hallbus__Reply *send_raw(const uint8_t *bytes, size_t len)
{
    const void *frames[] = {"", bytes};
    size_t lens[] = {0, len};
    void *out = NULL;
    size_t outlen = 0;
    cr_assert_eq(hb_rpc_call_raw(fx.rpc, frames, lens, 2, &out, &outlen), 0, "no reply");
    Hallbus__Reply *r = hallbus__reply__unpack(NULL, outlen, out);
    free(out);
    cr_assert_not_null(r);
    return r;
}

static uint64_t hall_seq(void)
{
    Hallbus__Request req = HALLBUS__REQUEST__INIT;
    Hallbus__GetStatus s = HALLBUS__GET_STATUS__INIT;
    req.command_case = HALLBUS__REQUEST__COMMAND_GET_STATUS;
    req.get_status = &s;
    Hallbus__Reply *r = hb_fixture_call(&fx, &req);
    cr_assert_not_null(r);
    uint64_t seq = r->seq;
    hallbus__reply__free_unpacked(r, NULL);
    return seq;
}

static void expect_refused(const uint8_t *bytes, size_t len, uint64_t request_id,
                           const char *field_and_why)
{
    uint64_t before = hall_seq();
    Hallbus__Reply *r = send_raw(bytes, len);
    cr_assert_eq(r->code, HALLBUS__STATUS_CODE__INVALID_ARGUMENT, "code %d: %s", r->code,
                 r->message);
    cr_assert(strstr(r->message, field_and_why), "\"%s\" names %s", r->message, field_and_why);
    cr_assert_eq(r->request_id, request_id, "the refusal answers the request it refuses");
    hallbus__reply__free_unpacked(r, NULL);
    cr_assert_eq(hall_seq(), before, "nothing was stored or published");
}

/* A PauseWindow at window 1 with REASON, packed; with MARK, the bytes of
 * MARK in it are then replaced by WITH (of the same length). */
static uint8_t *pause_at_window_1(uint64_t request_id, const char *reason, const char *mark,
                                  const char *with, size_t *len)
{
    Hallbus__Request req = HALLBUS__REQUEST__INIT;
    Hallbus__PauseWindow p = HALLBUS__PAUSE_WINDOW__INIT;
    p.window = 1;
    p.reason = (char *)reason;
    req.request_id = request_id;
    req.command_case = HALLBUS__REQUEST__COMMAND_PAUSE_WINDOW;
    req.pause_window = &p;
    if (mark)
        return pack_patched(&req, mark, with, len);
    *len = hallbus__request__get_packed_size(&req);
    uint8_t *buf = malloc(*len);
    hallbus__request__pack(&req, buf);
    return buf;
}

Test(queue_strings, a_pause_reason_that_is_not_utf8_is_refused_naming_the_field, .init = start,
     .fini = cleanup, .timeout = 60)
{
    cr_assert_eq(hb_fx_window(&fx, "open", 1, "ann"), HALLBUS__STATUS_CODE__OK);
    size_t len;
    uint8_t *buf = pause_at_window_1(41, "lunch\xff\xfe", NULL, NULL, &len);
    expect_refused(buf, len, 41, "pause_window.reason: not valid UTF-8");
    free(buf);
    /* the window is still open, not paused */
    cr_assert_eq(hb_fx_window(&fx, "pause", 1, NULL), HALLBUS__STATUS_CODE__OK);
    cr_assert_eq(hb_fixture_stop(&fx), 0);
}

Test(queue_strings, a_nul_in_a_pause_reason_is_refused_not_cut_short, .init = start,
     .fini = cleanup, .timeout = 60)
{
    cr_assert_eq(hb_fx_window(&fx, "open", 1, "ann"), HALLBUS__STATUS_CODE__OK);
    size_t len;
    uint8_t *buf = pause_at_window_1(42, "lunch#HIDDEN", "lunch#HIDDEN", "lunch\0HIDDEN", &len);
    expect_refused(buf, len, 42, "pause_window.reason: contains a NUL byte");
    free(buf);
    cr_assert_eq(hb_fixture_stop(&fx), 0);
}

Test(queue_strings, a_nul_in_a_service_prefix_is_refused_not_taken_as_the_service, .init = start,
     .fini = cleanup, .timeout = 60)
{
    Hallbus__Request req = HALLBUS__REQUEST__INIT;
    Hallbus__TakeTicket t = HALLBUS__TAKE_TICKET__INIT;
    t.service = "A#B";
    req.request_id = 43;
    req.command_case = HALLBUS__REQUEST__COMMAND_TAKE_TICKET;
    req.take_ticket = &t;
    size_t len;
    uint8_t *buf = pack_patched(&req, "A#B", "A\0B", &len);
    expect_refused(buf, len, 43, "take_ticket.service: contains a NUL byte");
    free(buf);
    /* no ticket was issued: the first real one is still A001 */
    char number[16];
    cr_assert_eq(hb_fx_take(&fx, "A", false, number), HALLBUS__STATUS_CODE__OK);
    cr_assert_str_eq(number, "A001");
    cr_assert_eq(hb_fixture_stop(&fx), 0);
}
