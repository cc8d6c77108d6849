/* hb_pb_to_json: the descriptor-driven protobuf → JSON mapping that hallctl
 * prints for scripts. */
#include <criterion/criterion.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "hallbus.pb-c.h"
#include "hallbus/pb_json.h"

static json_t *to_json(const void *msg)
{
    json_t *j = hb_pb_to_json((const ProtobufCMessage *)msg);
    cr_assert_not_null(j);
    cr_assert(json_is_object(j));
    return j;
}

static const char *str_at(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    cr_assert(json_is_string(v), "\"%s\" is not a string", key);
    return json_string_value(v);
}

static json_int_t int_at(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    cr_assert(json_is_integer(v), "\"%s\" is not an integer", key);
    return json_integer_value(v);
}

static void green_ticket(Hallbus__Ticket *t)
{
    hallbus__ticket__init(t);
    t->id = 42;
    t->number = "A012";
    t->service = "A";
    t->daily_number = 12;
    t->priority = HALLBUS__PRIORITY__GREEN;
    t->green_reason = HALLBUS__GREEN_REASON__ELDERLY;
    t->state = HALLBUS__TICKET_STATE__CALLED;
    t->business_date = "2026-11-24";
    t->issued_at = 1795000000123456LL;
    t->window = 3;
    t->staff = "li";
}

Test(pb_json, ticket_fields_are_named_as_in_the_proto_with_enum_names)
{
    Hallbus__Ticket t;
    green_ticket(&t);
    json_t *j = to_json(&t);
    cr_assert_eq(int_at(j, "id"), 42);
    cr_assert_str_eq(str_at(j, "number"), "A012");
    cr_assert_eq(int_at(j, "daily_number"), 12);
    cr_assert_str_eq(str_at(j, "priority"), "GREEN");
    cr_assert_str_eq(str_at(j, "green_reason"), "ELDERLY");
    cr_assert_str_eq(str_at(j, "state"), "CALLED");
    cr_assert_str_eq(str_at(j, "business_date"), "2026-11-24");
    cr_assert_eq(int_at(j, "window"), 3);
    cr_assert_str_eq(str_at(j, "staff"), "li");
    json_decref(j);
}

Test(pb_json, sixty_four_bit_instants_stay_exact_json_integers)
{
    Hallbus__Ticket t;
    green_ticket(&t);
    t.finished_at = -1795000000654321LL; /* absurd, but an int64 may be negative */
    json_t *j = to_json(&t);
    cr_assert_eq(int_at(j, "issued_at"), 1795000000123456LL);
    cr_assert_eq(int_at(j, "finished_at"), -1795000000654321LL);
    char *text = json_dumps(j, JSON_COMPACT);
    cr_assert(strstr(text, "\"issued_at\":1795000000123456"), "%s", text);
    free(text);
    json_decref(j);
}

Test(pb_json, proto3_defaults_are_omitted)
{
    Hallbus__Ticket t = HALLBUS__TICKET__INIT;
    json_t *j = to_json(&t);
    cr_assert_eq(json_object_size(j), 0, "an all-default ticket gives {}");
    json_decref(j);

    t.number = "B001";
    t.state = HALLBUS__TICKET_STATE__WAITING;
    j = to_json(&t);
    cr_assert_eq(json_object_size(j), 2);
    cr_assert_str_eq(str_at(j, "state"), "WAITING");
    cr_assert_null(json_object_get(j, "priority"), "NORMAL is the default");
    cr_assert_null(json_object_get(j, "window"));
    cr_assert_null(json_object_get(j, "staff"));
    cr_assert_null(json_object_get(j, "missing_materials"));
    json_decref(j);
}

Test(pb_json, repeated_strings_become_arrays_in_order)
{
    Hallbus__Ticket t = HALLBUS__TICKET__INIT;
    char *missing[] = {"身份证", "photo", ""};
    t.n_missing_materials = 3;
    t.missing_materials = missing;
    t.result = HALLBUS__RESULT__MATERIALS_MISSING;
    json_t *j = to_json(&t);
    json_t *arr = json_object_get(j, "missing_materials");
    cr_assert(json_is_array(arr));
    cr_assert_eq(json_array_size(arr), 3);
    cr_assert_str_eq(json_string_value(json_array_get(arr, 0)), "身份证");
    cr_assert_str_eq(json_string_value(json_array_get(arr, 1)), "photo");
    cr_assert_str_eq(json_string_value(json_array_get(arr, 2)), "",
                     "elements are kept even if empty");
    cr_assert_str_eq(str_at(j, "result"), "MATERIALS_MISSING");
    json_decref(j);
}

Test(pb_json, envelope_shows_only_the_set_oneof_member_with_nested_messages)
{
    Hallbus__Ticket t;
    green_ticket(&t);
    Hallbus__TicketCalled called = HALLBUS__TICKET_CALLED__INIT;
    called.ticket = &t;
    called.window = 3;
    called.staff = "li";
    Hallbus__Envelope env = HALLBUS__ENVELOPE__INIT;
    env.hall_id = "h01";
    env.seq = 7;
    env.source = "hall-queue";
    env.ts = 1795000000000000LL;
    env.event_case = HALLBUS__ENVELOPE__EVENT_TICKET_CALLED;
    env.ticket_called = &called;

    json_t *j = to_json(&env);
    cr_assert_str_eq(str_at(j, "hall_id"), "h01");
    cr_assert_eq(int_at(j, "seq"), 7);
    cr_assert_eq(int_at(j, "ts"), 1795000000000000LL);
    cr_assert_eq(json_object_size(j), 5, "four header fields and one event");
    json_t *ev = json_object_get(j, "ticket_called");
    cr_assert(json_is_object(ev));
    cr_assert_eq(int_at(ev, "window"), 3);
    cr_assert_null(json_object_get(ev, "out_of_order"), "false is the default");
    json_t *tj = json_object_get(ev, "ticket");
    cr_assert_str_eq(str_at(tj, "number"), "A012");
    cr_assert_str_eq(str_at(tj, "green_reason"), "ELDERLY");
    cr_assert_null(json_object_get(j, "heartbeat"));
    cr_assert_null(json_object_get(j, "ticket_issued"));
    json_decref(j);
}

Test(pb_json, a_set_oneof_member_is_emitted_even_when_empty)
{
    Hallbus__GetStatus get = HALLBUS__GET_STATUS__INIT;
    Hallbus__Request req = HALLBUS__REQUEST__INIT;
    req.command_case = HALLBUS__REQUEST__COMMAND_GET_STATUS;
    req.get_status = &get;
    json_t *j = to_json(&req);
    json_t *g = json_object_get(j, "get_status");
    cr_assert(json_is_object(g));
    cr_assert_eq(json_object_size(g), 0);
    json_decref(j);

    /* a heartbeat before any event: seq 0, all-default body, still there */
    Hallbus__Heartbeat hb = HALLBUS__HEARTBEAT__INIT;
    Hallbus__Envelope env = HALLBUS__ENVELOPE__INIT;
    env.hall_id = "h01";
    env.event_case = HALLBUS__ENVELOPE__EVENT_HEARTBEAT;
    env.heartbeat = &hb;
    j = to_json(&env);
    cr_assert(json_is_object(json_object_get(j, "heartbeat")));
    cr_assert_null(json_object_get(j, "seq"));
    json_decref(j);
}

Test(pb_json, decoding_the_packed_bytes_gives_the_same_json)
{
    Hallbus__Ticket t;
    green_ticket(&t);
    char *names[] = {"1", "2"};
    t.n_missing_materials = 2;
    t.missing_materials = names;
    Hallbus__TicketIssued issued = HALLBUS__TICKET_ISSUED__INIT;
    issued.ticket = &t;
    issued.ahead = 3;
    issued.estimated_wait_s = 720;
    Hallbus__Envelope env = HALLBUS__ENVELOPE__INIT;
    env.hall_id = "h01";
    env.seq = 1;
    env.event_case = HALLBUS__ENVELOPE__EVENT_TICKET_ISSUED;
    env.ticket_issued = &issued;

    uint8_t buf[512];
    size_t len = hallbus__envelope__pack(&env, buf);
    Hallbus__Envelope *back = hallbus__envelope__unpack(NULL, len, buf);
    cr_assert_not_null(back);
    json_t *a = to_json(&env);
    json_t *b = to_json(back);
    cr_assert(json_equal(a, b));
    cr_assert_eq(int_at(json_object_get(b, "ticket_issued"), "estimated_wait_s"), 720);
    json_decref(a);
    json_decref(b);
    hallbus__envelope__free_unpacked(back, NULL);
}

Test(pb_json, an_enum_value_this_build_does_not_know_stays_a_number)
{
    Hallbus__Ticket t = HALLBUS__TICKET__INIT;
    t.state = (Hallbus__TicketState)99;
    json_t *j = to_json(&t);
    cr_assert_eq(int_at(j, "state"), 99);
    json_decref(j);
}

Test(pb_json, text_that_is_not_utf8_is_repaired_not_dropped)
{
    Hallbus__Window w = HALLBUS__WINDOW__INIT;
    w.number = 1;
    w.staff = "li\xff\xc0";          /* a stray byte and a truncated sequence */
    w.pause_reason = "\xed\xa0\x80"; /* an encoded surrogate */
    json_t *j = to_json(&w);
    cr_assert_str_eq(str_at(j, "staff"), "li\xef\xbf\xbd\xef\xbf\xbd");
    cr_assert_str_eq(str_at(j, "pause_reason"), "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
    char *text = json_dumps(j, JSON_COMPACT);
    cr_assert_not_null(text, "the result serialises");
    json_t *parsed = json_loads(text, 0, NULL);
    cr_assert_not_null(parsed, "and parses back: %s", text);
    json_decref(parsed);
    free(text);
    json_decref(j);
}

/* A hand-made descriptor for the types hallbus.proto does not use yet: the
 * converter must handle any message, not only today's. */
typedef struct {
    ProtobufCMessage base;
    ProtobufCBinaryData blob;
    double ratio;
    size_t n_counts;
    int32_t *counts;
    protobuf_c_boolean has_limit;
    int32_t limit;
    uint64_t big;
    float level;
} sample_t;

static const ProtobufCFieldDescriptor sample_fields[] = {
    {"blob", 1, PROTOBUF_C_LABEL_NONE, PROTOBUF_C_TYPE_BYTES, 0, offsetof(sample_t, blob), NULL,
     NULL, 0, 0, NULL, NULL},
    {"ratio", 2, PROTOBUF_C_LABEL_NONE, PROTOBUF_C_TYPE_DOUBLE, 0, offsetof(sample_t, ratio), NULL,
     NULL, 0, 0, NULL, NULL},
    {"counts", 3, PROTOBUF_C_LABEL_REPEATED, PROTOBUF_C_TYPE_SINT32, offsetof(sample_t, n_counts),
     offsetof(sample_t, counts), NULL, NULL, PROTOBUF_C_FIELD_FLAG_PACKED, 0, NULL, NULL},
    {"limit", 4, PROTOBUF_C_LABEL_OPTIONAL, PROTOBUF_C_TYPE_INT32, offsetof(sample_t, has_limit),
     offsetof(sample_t, limit), NULL, NULL, 0, 0, NULL, NULL},
    {"big", 5, PROTOBUF_C_LABEL_NONE, PROTOBUF_C_TYPE_FIXED64, 0, offsetof(sample_t, big), NULL,
     NULL, 0, 0, NULL, NULL},
    {"level", 6, PROTOBUF_C_LABEL_NONE, PROTOBUF_C_TYPE_FLOAT, 0, offsetof(sample_t, level), NULL,
     NULL, 0, 0, NULL, NULL},
};

static const ProtobufCMessageDescriptor sample_descriptor = {
    PROTOBUF_C__MESSAGE_DESCRIPTOR_MAGIC,
    "test.Sample",
    "Sample",
    "Sample",
    "test",
    sizeof(sample_t),
    sizeof sample_fields / sizeof sample_fields[0],
    sample_fields,
    NULL,
    0,
    NULL,
    NULL,
    NULL,
    NULL,
    NULL,
};

Test(pb_json, bytes_doubles_packed_ints_and_proto2_presence_follow_the_mapping)
{
    int32_t counts[] = {-1, 0, 7};
    uint8_t raw[] = {'h', 'a', 'l', 'l', 0xff};
    sample_t s = {.base = {&sample_descriptor, 0, NULL}};
    s.blob.data = raw;
    s.blob.len = sizeof raw;
    s.ratio = 0.5;
    s.counts = counts;
    s.n_counts = 3;
    s.has_limit = 1; /* present although zero: proto2 says so with has_ */
    s.limit = 0;
    s.big = UINT64_MAX;
    s.level = INFINITY;

    json_t *j = to_json(&s);
    cr_assert_str_eq(str_at(j, "blob"), "aGFsbP8=");
    cr_assert_float_eq(json_real_value(json_object_get(j, "ratio")), 0.5, 1e-12);
    json_t *arr = json_object_get(j, "counts");
    cr_assert_eq(json_array_size(arr), 3);
    cr_assert_eq(json_integer_value(json_array_get(arr, 0)), -1);
    cr_assert_eq(json_integer_value(json_array_get(arr, 2)), 7);
    cr_assert_eq(int_at(j, "limit"), 0);
    cr_assert_str_eq(str_at(j, "big"), "18446744073709551615", "beyond int64: a string");
    cr_assert_str_eq(str_at(j, "level"), "Infinity");
    json_decref(j);

    s.has_limit = 0;
    s.blob.len = 0;
    s.ratio = 0;
    s.n_counts = 0;
    s.big = 0;
    s.level = NAN;
    j = to_json(&s);
    cr_assert_eq(json_object_size(j), 1, "only the NaN is left");
    cr_assert_str_eq(str_at(j, "level"), "NaN");
    json_decref(j);
}

Test(pb_json, base64_pads_every_tail_length)
{
    static const struct {
        const char *in;
        const char *out;
    } cases[] = {{"f", "Zg=="}, {"fo", "Zm8="}, {"foo", "Zm9v"}, {"foob", "Zm9vYg=="}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sample_t s = {.base = {&sample_descriptor, 0, NULL}};
        s.blob.data = (uint8_t *)cases[i].in;
        s.blob.len = strlen(cases[i].in);
        json_t *j = to_json(&s);
        cr_assert_str_eq(str_at(j, "blob"), cases[i].out, "base64(%s)", cases[i].in);
        json_decref(j);
    }
}
