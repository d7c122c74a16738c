/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * http.h: the pages redprof serves with --listen (/metrics and an index
 * at /), on libmicrohttpd's own thread.
 *
 * Ownership: the thread that samples publishes each page whole, as an
 * immutable copy swapped in under a mutex; the HTTP thread only copies the
 * current page out under the same mutex. Neither thread ever reads what
 * the other is changing, and the HTTP thread never touches the session.
 */
#ifndef REDPROF_HTTP_H
#define REDPROF_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

enum http_page { HTTP_INDEX, HTTP_METRICS, HTTP_NPAGES };

struct http;

/*
 * Parses "PORT", ":PORT", "ADDR:PORT" or "[ADDR6]:PORT" (ADDR numeric, or
 * "localhost"); without an address, 127.0.0.1. 0 or -EINVAL.
 */
int http_parse_addr(const char *s, struct sockaddr_storage *ss, socklen_t *len);

/* Whether SS is a loopback address (127.0.0.0/8, ::1). */
bool http_addr_is_loopback(const struct sockaddr_storage *ss);

/*
 * Listens on ADDR and serves from a thread of its own, which blocks every
 * signal (the sampling loop takes them through its signalfd). 0 or -errno:
 * -EINVAL a malformed address, -EADDRINUSE, -EACCES, -EADDRNOTAVAIL from
 * bind, -ENOMEM when the server cannot start.
 */
int http__open(const char *addr, struct http **out);
void http__close(struct http *h);

/* Replaces page P with a copy of BODY, served as CONTENT_TYPE. */
void http__publish(struct http *h, enum http_page p, const char *content_type, const char *body, size_t len);

#endif /* REDPROF_HTTP_H */
