/* CURVE on one socket: the options a server or a client socket needs,
 * set BEFORE zmq_bind / zmq_connect (libzmq reads them at the handshake of
 * each new connection), and the peer's key read back from a message. */
#ifndef HALLBUS_CURVE_H
#define HALLBUS_CURVE_H

#include <zmq.h>

#include "hallbus/keys.h"

/* Makes SOCK a CURVE server with OWN's secret key whose clients the ZAP
 * handler checks under DOMAIN ("queue", "bus-pub", ... see zap.h). Refuses
 * (-1, errno EPERM, logged) when no ZAP handler runs in this process: a
 * CURVE server without one would let in any client that knows its public
 * key. 0, or -1 with the reason logged. */
int hb_curve_server(void *sock, const hb_keypair_t *own, const char *domain);

/* Makes SOCK a CURVE client with OWN's key pair, talking to the server
 * whose public key is SERVER_PUBLIC_Z85 (its <keys_dir>/<name>.pub).
 * 0, or -1 with the reason logged. */
int hb_curve_client(void *sock, const hb_keypair_t *own, const char *server_public_z85);

/* The public key (z85) of the peer that sent FRAME, as the ZAP handler
 * gave it for User-Id. FRAME is any frame received from the peer (on a
 * ROUTER: a body frame, not the routing id that the ROUTER made up).
 * 0, or -1 (not a CURVE connection; OUT is then ""). */
int hb_peer_key(zmq_msg_t *frame, char out[HB_KEY_Z85_LEN + 1]);

/* The role of the peer that sent FRAME, as KEYS says now: HB_ROLE_NONE
 * for no key, an unknown key or one revoked since it connected. */
hb_role_t hb_peer_role(zmq_msg_t *frame, hb_keys_t *keys);

#endif
