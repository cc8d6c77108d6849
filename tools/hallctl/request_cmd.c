/* hc_run_request: a command line into one command message, by a table. */
#include "request_cmd.h"

#include <assert.h>
#include <stdalign.h>
#include <stdio.h>
#include <string.h>

static size_t count_rows(const hc_field_t *rows)
{
    size_t n = 0;
    while (rows && rows[n].name)
        n++;
    return n;
}

/* Checks TEXT as ROW says and stores it in MESSAGE: 0 or HC_EXIT_USAGE. */
static int put(hallctl_t *ctl, const hc_field_t *row, const char *what, const char *text,
               void *message)
{
    void *slot = (char *)message + row->at;
    int rc = 0;
    long n;
    switch (row->kind) {
    case HC_TEXT:
    case HC_TEXT_ANY:
        rc = hc_parse_text(ctl, what, text, row->kind == HC_TEXT);
        break;
    case HC_DATE:
        rc = hc_parse_date(ctl, what, text);
        break;
    case HC_WINDOW:
        return hc_parse_window(ctl, text, slot) != 0 ? HC_EXIT_USAGE : 0;
    case HC_RATING:
        return hc_parse_rating(ctl, text, slot) != 0 ? HC_EXIT_USAGE : 0;
    case HC_ID:
        if (hc_parse_count(ctl, what, text, 1, 1L << 50, &n) != 0)
            return HC_EXIT_USAGE;
        *(uint64_t *)slot = (uint64_t)n;
        return 0;
    case HC_FLAG:
        *(protobuf_c_boolean *)slot = 1;
        return 0;
    }
    if (rc != 0)
        return HC_EXIT_USAGE;
    *(const char **)slot = text;
    return 0;
}

static int missing_args(hc_getopt_t *g, const hc_request_cmd_t *cmd, int nargs)
{
    if (cmd->missing || g->npos >= nargs)
        return hc_want_args(g, nargs, cmd->missing ? cmd->missing : "nothing");
    char what[256] = "";
    for (int i = g->npos; i < nargs; i++)
        snprintf(what + strlen(what), sizeof what - strlen(what), "%s%s",
                 i > g->npos ? " and " : "", cmd->args[i].what);
    return hc_usage_error(g->ctl, "missing %s", what);
}

int hc_run_request(hallctl_t *ctl, int argc, char **argv, const hc_request_cmd_t *cmd)
{
    const ProtobufCFieldDescriptor *member =
        protobuf_c_message_descriptor_get_field(&hallbus__request__descriptor, cmd->which);
    assert(member && member->type == PROTOBUF_C_TYPE_MESSAGE);
    const ProtobufCMessageDescriptor *type = member->descriptor;
    alignas(max_align_t) char message[256];
    assert(type->sizeof_message <= sizeof message);
    protobuf_c_message_init(type, message);
    if (cmd->preset)
        cmd->preset((ProtobufCMessage *)message);

    size_t nopts = count_rows(cmd->options);
    assert(nopts < HC_OPTS_MAX);
    hc_opt_t opts[HC_OPTS_MAX] = {{0}};
    for (size_t i = 0; i < nopts; i++)
        opts[i] = (hc_opt_t){cmd->options[i].name, cmd->options[i].kind != HC_FLAG,
                             HC_OPT_FIRST + (int)i};
    hc_getopt_t g;
    hc_getopt_init(&g, ctl, argc, argv, opts, false);
    const char *arg;
    int id;
    while ((id = hc_getopt(&g, &arg)) > 0) {
        const hc_field_t *row = &cmd->options[id - HC_OPT_FIRST];
        char what[64];
        snprintf(what, sizeof what, "--%s", row->name);
        if (put(ctl, row, what, arg, message) != 0)
            return HC_EXIT_USAGE;
    }
    if (id < 0)
        return g.status;
    int nargs = (int)count_rows(cmd->args);
    if (missing_args(&g, cmd, nargs) != 0)
        return HC_EXIT_USAGE;
    for (int i = 0; i < nargs; i++)
        if (put(ctl, &cmd->args[i], cmd->args[i].name, g.pos[i], message) != 0)
            return HC_EXIT_USAGE;

    Hallbus__Request req = HALLBUS__REQUEST__INIT;
    req.command_case = cmd->which;
    *(void **)((char *)&req + member->offset) = message;
    return hc_run(ctl, &req, cmd->print, cmd->with_ahead);
}
