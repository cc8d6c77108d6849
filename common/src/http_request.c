/* Routes, and the request and the answer as a handler sees them: its path,
 * query, headers, cookies and body, and the replies (bytes, JSON, errors,
 * embedded files) with the headers and cookies that go with them. */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_internal.h"

/* ── routes ── */

int hb_http_server_route(hb_http_server_t *self, const char *path, unsigned methods,
                         hb_http_handler_fn handler, void *arg)
{
    size_t len = path ? strlen(path) : 0;
    if (len == 0 || path[0] != '/' || !handler || methods == 0)
        return -1;
    bool prefix = path[len - 1] == '*';
    if (prefix)
        len--;
    if (memchr(path, '*', len))
        return -1;
    hb_http_route_t *routes = realloc(self->routes, (self->nroutes + 1) * sizeof *routes);
    if (!routes)
        return -1;
    self->routes = routes;
    hb_http_route_t *r = &routes[self->nroutes];
    if (!(r->path = strndup(path, len)))
        return -1;
    self->nroutes++;
    r->len = len;
    r->prefix = prefix;
    r->methods = methods & HB_HTTP_GET ? methods | HB_HTTP_HEAD : methods;
    r->handler = handler;
    r->arg = arg;
    return 0;
}

static void serve_asset(hb_http_req_t *req, void *arg)
{
    hb_http_reply_asset(req, arg, req->path);
}

int hb_http_server_assets(hb_http_server_t *self, const hb_http_asset_t *assets)
{
    return hb_http_server_route(self, "/*", HB_HTTP_GET, serve_asset, (void *)assets);
}

/* The exact route of PATH, else its longest prefix route, else NULL. */
static const hb_http_route_t *find_route(const hb_http_server_t *s, const char *path, size_t len)
{
    const hb_http_route_t *best = NULL;
    for (size_t i = 0; i < s->nroutes; i++) {
        const hb_http_route_t *r = &s->routes[i];
        if (!r->prefix) {
            if (r->len == len && memcmp(r->path, path, len) == 0)
                return r;
        } else if (r->len <= len && memcmp(r->path, path, r->len) == 0 &&
                   (!best || r->len > best->len)) {
            best = r;
        }
    }
    return best;
}

static unsigned method_bit(h2o_iovec_t m)
{
    if (h2o_memis(m.base, m.len, H2O_STRLIT("GET")))
        return HB_HTTP_GET;
    if (h2o_memis(m.base, m.len, H2O_STRLIT("HEAD")))
        return HB_HTTP_HEAD;
    if (h2o_memis(m.base, m.len, H2O_STRLIT("POST")))
        return HB_HTTP_POST;
    return 0;
}

static size_t header_bytes(const h2o_req_t *r)
{
    size_t n = r->input.method.len + r->input.path.len + r->input.authority.len + 16;
    for (size_t i = 0; i < r->headers.size; i++)
        n += r->headers.entries[i].name->len + r->headers.entries[i].value.len + 4;
    return n;
}

void hb_http_dispatch(hb_http_server_t *s, h2o_req_t *r)
{
    s->stats.requests++;
    /* one response per connection: nothing idles open, a stop is quick and
     * a client's open connections are what it is doing now */
    r->http1_is_persistent = 0;
    hb_http_req_t req = {.server = s, .req = r, .conn = hb_http_conn_of(r)};
    h2o_iovec_t p = r->path_normalized;
    req.path = h2o_strdup(&r->pool, p.base, p.len).base;
    if (header_bytes(r) > s->cfg.max_header_bytes) {
        hb_http_reply_error(&req, 431, "the request's headers are over %zu bytes",
                            s->cfg.max_header_bytes);
        return;
    }
    if (strlen(req.path) != p.len) {
        hb_http_reply_error(&req, 400, "a NUL in the path");
        return;
    }
    const hb_http_route_t *route = find_route(s, p.base, p.len);
    unsigned method = method_bit(r->method);
    if (!route) {
        hb_http_reply_error(&req, 404, "nothing here: %s", req.path);
        return;
    }
    if (!(route->methods & method)) {
        char allow[32] = "";
        if (route->methods & HB_HTTP_GET)
            strcat(allow, "GET, HEAD");
        if (route->methods & HB_HTTP_POST)
            strcat(allow, allow[0] ? ", POST" : "POST");
        hb_http_add_header(&req, "allow", allow);
        hb_http_reply_error(&req, 405, "%.*s is not allowed on %s (allowed: %s)",
                            (int)(r->method.len > 16 ? 16 : r->method.len), r->method.base,
                            req.path, allow);
        return;
    }
    route->handler(&req, route->arg);
    if (req.stream)
        hb_http_stream_flush_new(&req);
    else if (!req.answered)
        hb_http_reply_error(&req, 500, "the handler of %s gave no answer", req.path);
}

/* ── the request ── */

const char *hb_http_req_method(const hb_http_req_t *req)
{
    switch (method_bit(req->req->method)) {
    case HB_HTTP_GET:
        return "GET";
    case HB_HTTP_HEAD:
        return "HEAD";
    case HB_HTTP_POST:
        return "POST";
    }
    return "";
}

const char *hb_http_req_path(const hb_http_req_t *req)
{
    return req->path;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* S (LEN bytes) percent-decoded ('+' is a space) into the pool; NULL when
 * it holds a malformed escape or a NUL. */
static const char *url_decode(h2o_mem_pool_t *pool, const char *s, size_t len)
{
    char *out = h2o_mem_alloc_pool(pool, len + 1), *o = out;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '+') {
            *o++ = ' ';
        } else if (s[i] == '%') {
            int hi = i + 2 < len ? hexval((unsigned char)s[i + 1]) : -1;
            int lo = i + 2 < len ? hexval((unsigned char)s[i + 2]) : -1;
            if (hi < 0 || lo < 0 || (hi | lo) == 0)
                return NULL;
            *o++ = (char)(hi << 4 | lo);
            i += 2;
        } else {
            *o++ = s[i];
        }
    }
    *o = '\0';
    return out;
}

const char *hb_http_req_query(hb_http_req_t *req, const char *name)
{
    h2o_req_t *r = req->req;
    if (r->query_at == SIZE_MAX)
        return NULL;
    const char *q = r->path.base + r->query_at + 1, *end = r->path.base + r->path.len;
    size_t nlen = strlen(name);
    while (q < end) {
        const char *amp = memchr(q, '&', (size_t)(end - q));
        const char *pair_end = amp ? amp : end;
        const char *eq = memchr(q, '=', (size_t)(pair_end - q));
        const char *key_end = eq ? eq : pair_end;
        const char *key = url_decode(&r->pool, q, (size_t)(key_end - q));
        if (key && strlen(key) == nlen && memcmp(key, name, nlen) == 0)
            return eq ? url_decode(&r->pool, eq + 1, (size_t)(pair_end - eq - 1)) : "";
        q = pair_end + 1;
    }
    return NULL;
}

const char *hb_http_req_header(hb_http_req_t *req, const char *name)
{
    h2o_req_t *r = req->req;
    size_t len = strlen(name);
    char *lower = h2o_mem_alloc_pool(&r->pool, len + 1);
    for (size_t i = 0; i <= len; i++)
        lower[i] = (char)tolower((unsigned char)name[i]);
    ssize_t i = h2o_find_header_by_str(&r->headers, lower, len, -1);
    if (i < 0)
        return NULL;
    h2o_iovec_t v = r->headers.entries[i].value;
    if (memchr(v.base, '\0', v.len))
        return NULL;
    return h2o_strdup(&r->pool, v.base, v.len).base;
}

const char *hb_http_req_cookie(hb_http_req_t *req, const char *name)
{
    h2o_req_t *r = req->req;
    size_t nlen = strlen(name);
    for (ssize_t i = -1; (i = h2o_find_header(&r->headers, H2O_TOKEN_COOKIE, i)) >= 0;) {
        const char *p = r->headers.entries[i].value.base;
        const char *end = p + r->headers.entries[i].value.len;
        while (p < end) {
            while (p < end && (*p == ' ' || *p == ';'))
                p++;
            const char *semi = memchr(p, ';', (size_t)(end - p));
            const char *pair_end = semi ? semi : end;
            const char *eq = memchr(p, '=', (size_t)(pair_end - p));
            if (eq && (size_t)(eq - p) == nlen && memcmp(p, name, nlen) == 0) {
                const char *v = eq + 1, *ve = pair_end;
                while (ve > v && ve[-1] == ' ')
                    ve--;
                if (ve - v >= 2 && v[0] == '"' && ve[-1] == '"') {
                    v++;
                    ve--;
                }
                if (memchr(v, '\0', (size_t)(ve - v)))
                    return NULL;
                return h2o_strdup(&r->pool, v, (size_t)(ve - v)).base;
            }
            p = pair_end;
        }
    }
    return NULL;
}

const char *hb_http_req_peer(hb_http_req_t *req)
{
    struct sockaddr_storage sa;
    socklen_t len = req->req->conn->callbacks->get_peername(req->req->conn, (struct sockaddr *)&sa);
    char *out = h2o_mem_alloc_pool(&req->req->pool, 64);
    if (len == 0 || uv_ip_name((struct sockaddr *)&sa, out, 64) != 0) /* libuv >= 1.43 */
        return "";
    return out;
}

const void *hb_http_req_body(hb_http_req_t *req, size_t *len)
{
    h2o_iovec_t e = req->req->entity;
    *len = e.base ? e.len : 0;
    return e.base ? e.base : "";
}

json_t *hb_http_req_json(hb_http_req_t *req, size_t max)
{
    if (max == 0 || max > req->server->cfg.max_body_bytes)
        max = req->server->cfg.max_body_bytes;
    size_t len;
    const char *body = hb_http_req_body(req, &len);
    if (len > max) {
        hb_http_reply_error(req, 413, "the body is %zu bytes; at most %zu are taken", len, max);
        return NULL;
    }
    const char *type = hb_http_req_header(req, "content-type");
    size_t tl = type ? strcspn(type, "; ") : 0;
    if (!type || tl != 16 || strncasecmp(type, "application/json", 16) != 0) {
        hb_http_reply_error(req, 415, "the body must be Content-Type: application/json");
        return NULL;
    }
    json_error_t e;
    json_t *j = json_loadb(body, len, JSON_REJECT_DUPLICATES, &e);
    if (!j)
        hb_http_reply_error(req, 400, "invalid JSON at line %d, column %d: %s", e.line, e.column,
                            e.text);
    return j;
}

/* ── the answer ── */

void hb_http_add_header(hb_http_req_t *req, const char *name, const char *value)
{
    h2o_req_t *r = req->req;
    h2o_iovec_t n = h2o_strdup(&r->pool, name, SIZE_MAX);
    h2o_strtolower(n.base, n.len);
    h2o_iovec_t v = h2o_strdup(&r->pool, value, SIZE_MAX);
    h2o_add_header_by_str(&r->pool, &r->res.headers, n.base, n.len, 1, NULL, v.base, v.len);
}

/* RFC 6265's cookie-octet, and a token for the name. */
static bool cookie_chars(const char *s, bool name)
{
    if (name && !*s)
        return false;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c <= 0x20 || c >= 0x7f || c == '"' || c == ',' || c == ';' || c == '\\')
            return false;
        if (name && strchr("()<>@:/[]?={}", c))
            return false;
    }
    return true;
}

int hb_http_set_cookie(hb_http_req_t *req, const char *name, const char *value, const char *path,
                       long max_age_s, bool secure)
{
    if (!cookie_chars(name, true) || !cookie_chars(value, false) ||
        (path && (!cookie_chars(path, false) || path[0] != '/')))
        return -1;
    h2o_req_t *r = req->req;
    size_t cap = strlen(name) + strlen(value) + (path ? strlen(path) : 1) + 96;
    char *v = h2o_mem_alloc_pool(&r->pool, cap);
    int n = snprintf(v, cap, "%s=%s; Path=%s; HttpOnly; SameSite=Strict", name, value,
                     path ? path : "/");
    if (max_age_s >= 0)
        n += snprintf(v + n, cap - (size_t)n, "; Max-Age=%ld", max_age_s);
    if (secure)
        snprintf(v + n, cap - (size_t)n, "; Secure");
    h2o_add_header(&r->pool, &r->res.headers, H2O_TOKEN_SET_COOKIE, NULL, v, strlen(v));
    return 0;
}

static const char *reason(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 204:
        return "No Content";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 409:
        return "Conflict";
    case 413:
        return "Payload Too Large";
    case 415:
        return "Unsupported Media Type";
    case 429:
        return "Too Many Requests";
    case 431:
        return "Request Header Fields Too Large";
    case 500:
        return "Internal Server Error";
    case 503:
        return "Service Unavailable";
    }
    return "Status";
}

void hb_http_reply(hb_http_req_t *req, int status, const char *content_type, const void *body,
                   size_t len)
{
    if (req->answered || req->stream)
        return; /* a handler's second answer: the first one stands */
    req->answered = true;
    h2o_req_t *r = req->req;
    r->res.status = status;
    r->res.reason = reason(status);
    r->res.content_length = len;
    h2o_add_header(&r->pool, &r->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, content_type,
                   strlen(content_type));
    h2o_send_inline(r, body, len); /* copies BODY; HEAD: headers only */
}

void hb_http_reply_json(hb_http_req_t *req, int status, const json_t *j)
{
    char *text = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
    if (!text) {
        hb_http_reply(req, 500, "application/json", "{\"status\":500,\"error\":\"no JSON\"}\n", 34);
        return;
    }
    size_t len = strlen(text);
    char *body = h2o_mem_alloc_pool(&req->req->pool, len + 1);
    memcpy(body, text, len);
    body[len] = '\n';
    free(text);
    hb_http_reply(req, status, "application/json", body, len + 1);
}

void hb_http_reply_error(hb_http_req_t *req, int status, const char *fmt, ...)
{
    char why[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    json_t *j = json_pack("{s:i,s:s?}", "status", status, "error", why);
    hb_http_reply_json(req, status, j);
    json_decref(j);
}

void hb_http_reply_asset(hb_http_req_t *req, const hb_http_asset_t *assets, const char *name)
{
    const hb_http_asset_t *a = hb_http_asset_find(assets, name, strlen(name));
    if (!a) {
        hb_http_reply_error(req, 404, "nothing here: %s", req->path);
        return;
    }
    hb_http_reply(req, 200, hb_http_content_type(a->path), a->data, a->len);
}
