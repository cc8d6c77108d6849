/* CURVE options on one socket, and the peer's key read back. */
#include "hallbus/curve.h"

#include <errno.h>
#include <string.h>

#include "hallbus/log.h"
#include "hallbus/zap.h"

#ifndef ZMQ_ZAP_ENFORCE_DOMAIN
#define ZMQ_ZAP_ENFORCE_DOMAIN 93 /* draft in libzmq 4.3; refused by builds without it */
#endif

static int set_text(void *sock, int option, const char *name, const char *value)
{
    if (zmq_setsockopt(sock, option, value, strlen(value) + 1) == 0)
        return 0;
    hb_error("curve: cannot set %s: %s", name, zmq_strerror(zmq_errno()));
    return -1;
}

int hb_curve_server(void *sock, const hb_keypair_t *own, const char *domain)
{
    if (!hb_zap_running()) {
        hb_error("curve: no ZAP handler runs in this process: start it (hb_zap_start) before "
                 "the CURVE server on domain \"%s\"",
                 domain);
        errno = EPERM;
        return -1;
    }
    if (!hb_key_z85_valid(own->secret_z85) || !domain || !*domain) {
        hb_error("curve: a server needs its secret key and a ZAP domain");
        errno = EINVAL;
        return -1;
    }
    int one = 1;
    if (zmq_setsockopt(sock, ZMQ_CURVE_SERVER, &one, sizeof one) != 0) {
        hb_error("curve: cannot be a CURVE server: %s", zmq_strerror(zmq_errno()));
        return -1;
    }
    if (set_text(sock, ZMQ_CURVE_SECRETKEY, "its secret key", own->secret_z85) != 0 ||
        set_text(sock, ZMQ_ZAP_DOMAIN, "its ZAP domain", domain) != 0)
        return -1;
    /* where the draft option exists, a missing handler refuses rather than
     * admits; elsewhere hb_zap_running() above is the guard */
    (void)zmq_setsockopt(sock, ZMQ_ZAP_ENFORCE_DOMAIN, &one, sizeof one);
    return 0;
}

int hb_curve_client(void *sock, const hb_keypair_t *own, const char *server_public_z85)
{
    if (!hb_key_z85_valid(own->public_z85) || !hb_key_z85_valid(own->secret_z85) ||
        !hb_key_z85_valid(server_public_z85)) {
        hb_error("curve: a client needs its key pair and the server's public key");
        errno = EINVAL;
        return -1;
    }
    if (set_text(sock, ZMQ_CURVE_SERVERKEY, "the server's public key", server_public_z85) != 0 ||
        set_text(sock, ZMQ_CURVE_PUBLICKEY, "its public key", own->public_z85) != 0 ||
        set_text(sock, ZMQ_CURVE_SECRETKEY, "its secret key", own->secret_z85) != 0)
        return -1;
    return 0;
}

int hb_peer_key(zmq_msg_t *frame, char out[HB_KEY_Z85_LEN + 1])
{
    out[0] = '\0';
    const char *user = zmq_msg_gets(frame, "User-Id");
    if (!user || !hb_key_z85_valid(user))
        return -1;
    memcpy(out, user, HB_KEY_Z85_LEN + 1);
    return 0;
}

hb_role_t hb_peer_role(zmq_msg_t *frame, hb_keys_t *keys)
{
    char key[HB_KEY_Z85_LEN + 1];
    if (hb_peer_key(frame, key) != 0)
        return HB_ROLE_NONE;
    return hb_keys_role(keys, key);
}
