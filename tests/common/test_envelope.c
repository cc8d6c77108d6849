/* The table of event kinds agrees with the proto: every event of the
 * Envelope's oneof has a topic kind, and the message named beside it is the
 * one the field carries. */
#include <criterion/criterion.h>
#include <string.h>

#include "hallbus/envelope.h"

Test(envelope, every_event_of_the_proto_has_a_kind_and_its_message)
{
    size_t n;
    const hb_event_kind_t *kinds = hb_event_kinds(&n);
    const ProtobufCMessageDescriptor *d = &hallbus__envelope__descriptor;
    unsigned events = 0;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        if (!(f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) || f->type != PROTOBUF_C_TYPE_MESSAGE)
            continue;
        events++;
        const hb_event_kind_t *row = NULL;
        for (size_t k = 0; k < n; k++)
            if (kinds[k].event_case == (int)f->id)
                row = &kinds[k];
        cr_assert(row, "event field %s has no topic kind", f->name);
        const ProtobufCMessageDescriptor *m = f->descriptor;
        cr_expect_str_eq(row->message, m->short_name, "kind %s", row->kind);
    }
    cr_expect_eq(events, n, "the table has %zu rows for %u events", n, events);
}

Test(envelope, an_event_this_build_does_not_know_is_unknown)
{
    Hallbus__Envelope env = HALLBUS__ENVELOPE__INIT;
    env.event_case = (Hallbus__Envelope__EventCase)999;
    cr_expect_str_eq(hb_event_kind(&env), "unknown");
}
