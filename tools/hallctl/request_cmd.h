/* The shape most hallctl commands share: parse the options and arguments,
 * put each into a field of one command message, send it in a Request, print
 * the reply. A command says which message and which fields, as a table; one
 * function does the rest, so every command checks its words the same way. */
#ifndef HALLCTL_REQUEST_CMD_H
#define HALLCTL_REQUEST_CMD_H

#include <stddef.h>

#include "hallctl.h"

/* How the text of an option or argument is checked and stored. */
typedef enum {
    HC_TEXT,     /* a char *, not empty */
    HC_TEXT_ANY, /* a char *, may be empty */
    HC_DATE,     /* a char *, YYYY-MM-DD */
    HC_WINDOW,   /* a uint32_t window number */
    HC_RATING,   /* a uint32_t, 1-4 or its word */
    HC_ID,       /* a uint64_t from 1 to 2^50 */
    HC_FLAG,     /* an option without text: a protobuf_c_boolean set to true */
} hc_field_kind_t;

/* One option ("--reason", without the dashes) or positional argument. */
typedef struct {
    const char *name; /* an option's name; an argument's name in messages ("NUMBER") */
    const char *what; /* an argument's name when it is missing ("ticket NUMBER") */
    hc_field_kind_t kind;
    size_t at; /* offsetof the member in the command's message */
} hc_field_t;

#define HC_FIELD(name, kind, type, member)                                                         \
    {                                                                                              \
        name, NULL, kind, offsetof(type, member)                                                   \
    }
#define HC_ARG(name, what, kind, type, member)                                                     \
    {                                                                                              \
        name, what, kind, offsetof(type, member)                                                   \
    }

typedef struct {
    Hallbus__Request__CommandCase which; /* the Request's member, hence the message */
    const hc_field_t *options;           /* NULL, or ended by a NULL name */
    const hc_field_t *args;              /* NULL, or ended by a NULL name; all required */
    /* What "missing" names when arguments are missing; NULL: the missing
     * ones' "what", joined by " and ". */
    const char *missing;
    /* Sets what the command fixes, before the options are read; may be NULL. */
    void (*preset)(ProtobufCMessage *message);
    hc_printer print;
    bool with_ahead; /* see hc_run */
} hc_request_cmd_t;

/* Parses ARGV by CMD, builds its message and runs it (hc_run). Returns
 * the exit status. The message's strings point into ARGV. */
int hc_run_request(hallctl_t *ctl, int argc, char **argv, const hc_request_cmd_t *cmd);

#endif
