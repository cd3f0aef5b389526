#define _GNU_SOURCE
/* ok-backend.c: an HTTP/1.1 backend that answers every request with 200
 * and an empty body, for bench/upload-overhead.sh. One thread, one epoll
 * loop, no allocation per request: it costs the machine as little CPU as a
 * local stand-in can, so that what a run with a reachable destination costs
 * more than local mode is graphsignal's, not the stand-in's (a real backend
 * runs elsewhere). Listens on 127.0.0.1 on a free port, prints its URL on
 * stdout, serves until killed. Not a general server: it reads each request's
 * headers and Content-Length body (no chunked bodies, which graphsignal does
 * not send; at most 1 MiB with its headers, more closes the connection), and
 * keeps connections open. */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAXCONN 1024
#define BUF (1 << 20)

struct conn { char *buf; size_t len; };
static struct conn conns[MAXCONN];
static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Type: application/x-protobuf\r\nContent-Length: 0\r\n\r\n";

/* handle answers every whole request in c's buffer; it returns -1 to close. */
static int handle(int fd, struct conn *c) {
	for (;;) {
		char *end = memmem(c->buf, c->len, "\r\n\r\n", 4);
		if (!end) return c->len < BUF ? 0 : -1;
		size_t head = end + 4 - c->buf, body = 0;
		for (char *p = c->buf; p < end; p++) {
			if ((p == c->buf || p[-1] == '\n') && strncasecmp(p, "content-length:", 15) == 0) {
				body = strtoul(p + 15, NULL, 10);
			}
		}
		if (head + body > BUF) return -1;
		if (c->len < head + body) return 0;
		if (write(fd, ok, sizeof ok - 1) != (ssize_t)(sizeof ok - 1)) return -1;
		memmove(c->buf, c->buf + head + body, c->len - head - body);
		c->len -= head + body;
	}
}

int main(void) {
	int ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), one = 1;
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t al = sizeof a;
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(ls, (struct sockaddr *)&a, sizeof a) || listen(ls, 128) || getsockname(ls, (struct sockaddr *)&a, &al)) {
		perror("ok-backend");
		return 1;
	}
	printf("http://127.0.0.1:%d\n", ntohs(a.sin_port));
	fflush(stdout);
	int ep = epoll_create1(0);
	struct epoll_event ev = {.events = EPOLLIN, .data.fd = ls}, evs[64];
	epoll_ctl(ep, EPOLL_CTL_ADD, ls, &ev);
	for (;;) {
		int n = epoll_wait(ep, evs, 64, -1);
		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;
			if (fd == ls) {
				int c;
				while ((c = accept4(ls, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
					if (c >= MAXCONN) { close(c); continue; }
					setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
					if (!conns[c].buf) conns[c].buf = malloc(BUF);
					conns[c].len = 0;
					ev = (struct epoll_event){.events = EPOLLIN, .data.fd = c};
					epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev);
				}
				continue;
			}
			struct conn *c = &conns[fd];
			ssize_t r = read(fd, c->buf + c->len, BUF - c->len);
			if (r > 0) c->len += r;
			if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR) || handle(fd, c) < 0) {
				epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
				close(fd);
			}
		}
	}
}
