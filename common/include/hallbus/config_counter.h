/* The "counter:" section of the hall file: settings of hall-counter. */
#ifndef HALLBUS_CONFIG_COUNTER_H
#define HALLBUS_CONFIG_COUNTER_H

typedef struct {
    char *endpoint; /* where terminals connect (ROUTER); default "tcp://127.0.0.1:5560" */
} hb_counter_conf_t;

#endif
