/* Replies for people: one printer per kind of answer. Each tolerates a
 * reply without the result it expects (an older or newer hall) and prints
 * what it can. */
#ifndef HALLCTL_PRINT_H
#define HALLCTL_PRINT_H

#include "hallctl.h"

void pr_issued(hallctl_t *ctl, const Hallbus__Reply *reply);      /* take */
void pr_requeued(hallctl_t *ctl, const Hallbus__Reply *reply);    /* requeue */
void pr_transferred(hallctl_t *ctl, const Hallbus__Reply *reply); /* transfer */
void pr_called(hallctl_t *ctl, const Hallbus__Reply *reply);      /* call */
void pr_recalled(hallctl_t *ctl, const Hallbus__Reply *reply);    /* recall */
void pr_no_show(hallctl_t *ctl, const Hallbus__Reply *reply);     /* no-show */
void pr_started(hallctl_t *ctl, const Hallbus__Reply *reply);     /* start */
void pr_finished(hallctl_t *ctl, const Hallbus__Reply *reply);    /* finish */
void pr_evaluated(hallctl_t *ctl, const Hallbus__Reply *reply);   /* evaluate */
void pr_ticket(hallctl_t *ctl, const Hallbus__Reply *reply);      /* ticket: key: value lines */
void pr_window(hallctl_t *ctl, const Hallbus__Reply *reply);      /* window open/pause/... */
void pr_status(hallctl_t *ctl, const Hallbus__Reply *reply);      /* status: two tables */
void pr_snapshot(hallctl_t *ctl, const Hallbus__Reply *reply);    /* snapshot: and the tickets */

/* "materials missing: a, b" and the like: the result of a finished ticket
 * in words, into a string the caller frees. Shared with the event lines. */
char *pr_result_words(Hallbus__Result result, const char *reason, char *const *missing,
                      size_t n_missing, const char *promised);

#endif
