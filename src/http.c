// SPDX-License-Identifier: BSD-3-Clause
/*
 * http.c: /metrics and / over libmicrohttpd. redprof makes the listening
 * socket itself, so that a port in use or an address not on this host is
 * an error at start-up naming the address, then hands it to the library.
 * The server takes GET and HEAD only, a bounded number of connections, and
 * drops idle ones, so a stuck scraper cannot pile up in a production host.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <microhttpd.h>

#include "http.h"
#include "util.h"

#define HTTP_MAX_CONNECTIONS 32
#define HTTP_MAX_PER_CLIENT 8
#define HTTP_IDLE_TIMEOUT_S 10

struct page {
	char *body;		/* NULL until published */
	size_t len;
	char type[80];
};

struct http {
	struct MHD_Daemon *daemon;
	pthread_mutex_t lock;	/* guards page[]: see http.h */
	struct page page[HTTP_NPAGES];
};

static int parse_port(const char *s, in_port_t *port)
{
	uint64_t v;

	if (parse_u64(s, &v) || !v || v > 65535 || s[0] == '0')
		return -EINVAL;
	*port = htons((uint16_t)v);
	return 0;
}

int http_parse_addr(const char *s, struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in *v4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)ss;
	char host[64] = "127.0.0.1";
	const char *port = s, *colon;

	memset(ss, 0, sizeof(*ss));
	if (s[0] == '[') {
		colon = strstr(s, "]:");
		if (!colon || (size_t)(colon - s - 1) >= sizeof(host))
			return -EINVAL;
		snprintf(host, sizeof(host), "%.*s", (int)(colon - s - 1), s + 1);
		port = colon + 2;
	} else if ((colon = strrchr(s, ':'))) {
		if (colon > s) {
			if ((size_t)(colon - s) >= sizeof(host))
				return -EINVAL;
			snprintf(host, sizeof(host), "%.*s", (int)(colon - s), s);
		}
		port = colon + 1;
	}
	if (!strcmp(host, "localhost"))
		snprintf(host, sizeof(host), "127.0.0.1");
	if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		*len = sizeof(*v4);
		return parse_port(port, &v4->sin_port);
	}
	if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
		*len = sizeof(*v6);
		return parse_port(port, &v6->sin6_port);
	}
	return -EINVAL;
}

bool http_addr_is_loopback(const struct sockaddr_storage *ss)
{
	const struct sockaddr_in *v4 = (const struct sockaddr_in *)ss;
	const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *)ss;

	if (ss->ss_family == AF_INET)
		return (ntohl(v4->sin_addr.s_addr) >> 24) == 127;
	return IN6_IS_ADDR_LOOPBACK(&v6->sin6_addr);
}

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned status, const char *type, const char *body,
			     size_t len)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
	enum MHD_Result ret;

	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

#define TEXT "text/plain; charset=utf-8"

/* Runs on the HTTP thread: it reads page[] under the lock and nothing else of redprof's. */
static enum MHD_Result answer(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
			      const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls)
{
	static const char not_found[] = "not found: redprof serves / and /metrics\n";
	static const char no_method[] = "method not allowed: use GET or HEAD\n";
	static const char not_yet[] = "redprof has not published its metrics yet; try again in a second\n";
	struct http *h = cls;
	enum MHD_Result ret;
	struct page *p;

	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
		return reply(conn, MHD_HTTP_METHOD_NOT_ALLOWED, TEXT, no_method, sizeof(no_method) - 1);
	if (!strcmp(url, "/"))
		p = &h->page[HTTP_INDEX];
	else if (!strcmp(url, "/metrics"))
		p = &h->page[HTTP_METRICS];
	else
		return reply(conn, MHD_HTTP_NOT_FOUND, TEXT, not_found, sizeof(not_found) - 1);
	pthread_mutex_lock(&h->lock);
	if (p->body)
		ret = reply(conn, MHD_HTTP_OK, p->type, p->body, p->len);
	else
		ret = reply(conn, MHD_HTTP_SERVICE_UNAVAILABLE, TEXT, not_yet, sizeof(not_yet) - 1);
	pthread_mutex_unlock(&h->lock);
	return ret;
}

static int listen_on(const char *addr, int *out)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, one = 1, err;

	err = http_parse_addr(addr, &ss, &len);
	if (err)
		return err;
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) || listen(fd, 16)) {
		err = -errno;
		close(fd);
		return err;
	}
	*out = fd;
	return 0;
}

int http__open(const char *addr, struct http **out)
{
	struct http *h;
	sigset_t all, old;
	int fd = -1, err;

	err = listen_on(addr, &fd);
	if (err)
		return err;
	h = xcalloc(1, sizeof(*h));
	pthread_mutex_init(&h->lock, NULL);
	/* The server's thread inherits this mask: no signal meant for the sampling loop lands there. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	h->daemon = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO, 0, NULL, NULL, answer, h,
				     MHD_OPTION_LISTEN_SOCKET, fd,
				     MHD_OPTION_CONNECTION_LIMIT, (unsigned)HTTP_MAX_CONNECTIONS,
				     MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)HTTP_MAX_PER_CLIENT,
				     MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)HTTP_IDLE_TIMEOUT_S,
				     MHD_OPTION_END);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!h->daemon) {
		close(fd);
		pthread_mutex_destroy(&h->lock);
		free(h);
		return -ENOMEM;
	}
	*out = h;
	return 0;
}

void http__close(struct http *h)
{
	if (!h)
		return;
	/* Joins the server's thread and closes the listening socket. */
	MHD_stop_daemon(h->daemon);
	pthread_mutex_destroy(&h->lock);
	for (int i = 0; i < HTTP_NPAGES; i++)
		free(h->page[i].body);
	free(h);
}

void http__publish(struct http *h, enum http_page p, const char *content_type, const char *body, size_t len)
{
	char *copy = xmalloc(len + 1), *old;

	memcpy(copy, body, len);
	copy[len] = '\0';
	pthread_mutex_lock(&h->lock);
	old = h->page[p].body;
	h->page[p].body = copy;
	h->page[p].len = len;
	snprintf(h->page[p].type, sizeof(h->page[p].type), "%s", content_type);
	pthread_mutex_unlock(&h->lock);
	free(old);
}
