#include "audit_ask.h"

#include <zmq.h>

Hallbus__AuditReply *audit_ask(void *ctx, const char *endpoint, Hallbus__AuditRequest *req)
{
    void *s = zmq_socket(ctx, ZMQ_REQ);
    int linger = 0, timeout = 1000;
    zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(s, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
    zmq_connect(s, endpoint);
    uint8_t buf[1024];
    size_t len = hallbus__audit_request__pack(req, buf);
    zmq_send(s, buf, len, 0);
    zmq_msg_t m;
    zmq_msg_init(&m);
    Hallbus__AuditReply *r = NULL;
    if (zmq_msg_recv(&m, s, 0) >= 0)
        r = hallbus__audit_reply__unpack(NULL, zmq_msg_size(&m), zmq_msg_data(&m));
    zmq_msg_close(&m);
    zmq_close(s);
    return r;
}
