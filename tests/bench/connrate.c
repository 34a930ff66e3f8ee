// SPDX-License-Identifier: GPL-2.0
/*
 * connrate: the TCP peer of the mutex_proxy benchmark (tests/bench/run.sh),
 * small enough that the kernel's connection path, not the client, is what
 * is measured.
 *
 *   connrate serve PORT [hold]   listen on 0.0.0.0:PORT and accept forever;
 *                                close each connection at once, or keep it
 *                                open (hold)
 *   connrate rate ADDR PORT SECS connect and abort (RST, no TIME_WAIT)
 *                                connections one after the other for SECS
 *                                seconds of CLOCK_MONOTONIC; prints
 *                                "conns N secs S rate R errors E"
 *   connrate hold ADDR PORT N    open N connections, print "ready N", keep
 *                                them until stdin reaches end of file, then
 *                                abort them all
 *   connrate udpflows SRC DST N  start N UDP flows: one datagram each, flow i
 *                                from address SRC + i / 50000 (those must be
 *                                local) to DST port 10000 + i % 50000: N
 *                                distinct tuples whose redirect to one local
 *                                port NAT can still map (one source address
 *                                has only 16 bits of ports for the replies);
 *                                prints "flows N secs S rate R errors E"
 *   connrate udpload SRC DST N SECS [SPORT]
 *                                N UDP flows from SRC to DST ports
 *                                10000..10000+N-1, one datagram each in turn,
 *                                round after round for SECS seconds of
 *                                CLOCK_MONOTONIC: a load of more flows than
 *                                the per-CPU cache holds; prints
 *                                "pkts P secs S rate R errors E". From
 *                                source port SPORT if given (so that a second
 *                                run sends on the first one's flows instead of
 *                                N new ones), else one the kernel picks
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void more_files(void)
{
	struct rlimit rl = { 1 << 16, 1 << 16 };

	if (setrlimit(RLIMIT_NOFILE, &rl))
		perror("connrate: setrlimit");
}

static struct sockaddr_in addr_of(const char *ip, const char *port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };

	sa.sin_port = htons((unsigned short)atoi(port));
	if (inet_pton(AF_INET, ip, &sa.sin_addr) != 1) {
		fprintf(stderr, "connrate: bad address %s\n", ip);
		exit(2);
	}
	return sa;
}

/* Close with an RST: the port is free again at once, no TIME_WAIT. */
static void abort_close(int fd)
{
	struct linger lg = { 1, 0 };

	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(fd);
}

static int serve(const char *port, int hold)
{
	struct sockaddr_in sa = addr_of("0.0.0.0", port);
	int one = 1, s, c;

	more_files();
	s = socket(AF_INET, SOCK_STREAM, 0);
	if (s < 0 || setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(s, (struct sockaddr *)&sa, sizeof(sa)) || listen(s, 4096)) {
		perror("connrate: listen");
		return 1;
	}
	for (;;) {
		c = accept(s, NULL, NULL);
		if (c < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			perror("connrate: accept");
			return 1;
		}
		if (!hold)
			close(c);
	}
}

static int rate(const char *ip, const char *port, double secs)
{
	struct sockaddr_in sa = addr_of(ip, port);
	unsigned long n = 0, errors = 0;
	double t0 = now(), t = t0;
	int fd;

	while (t - t0 < secs) {
		fd = socket(AF_INET, SOCK_STREAM, 0);
		if (fd < 0) {
			perror("connrate: socket");
			return 1;
		}
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
			n++;
		else if (++errors > 100) {
			perror("connrate: connect");
			return 1;
		}
		abort_close(fd);
		/* Reading the clock every connection costs a vDSO call. */
		t = now();
	}
	printf("conns %lu secs %.6f rate %.1f errors %lu\n", n, t - t0,
	       n / (t - t0), errors);
	return 0;
}

static int hold(const char *ip, const char *port, int n)
{
	struct sockaddr_in sa = addr_of(ip, port);
	int *fds = calloc(n, sizeof(int)), i;
	char buf[64];

	more_files();
	if (!fds)
		return 1;
	for (i = 0; i < n; i++) {
		fds[i] = socket(AF_INET, SOCK_STREAM, 0);
		if (fds[i] < 0 || connect(fds[i], (struct sockaddr *)&sa, sizeof(sa))) {
			fprintf(stderr, "connrate: connection %d: %s\n", i, strerror(errno));
			return 1;
		}
	}
	printf("ready %d\n", n);
	fflush(stdout);
	while (read(0, buf, sizeof(buf)) > 0)
		;
	for (i = 0; i < n; i++)
		abort_close(fds[i]);
	free(fds);
	return 0;
}

/* A UDP socket bound to @src (port chosen by the kernel), or -1. */
static int udp_from(struct sockaddr_in src)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&src, sizeof(src))) {
		perror("connrate: udp socket");
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* m datagrams of iov to dst, ports port..port+m-1, for one sendmmsg(). */
static void udp_batch(struct mmsghdr *msgs, struct sockaddr_in *to, struct iovec *iov,
		      struct sockaddr_in dst, int port, int m)
{
	int k;

	for (k = 0; k < m; k++) {
		to[k] = dst;
		to[k].sin_port = htons(port + k);
		memset(&msgs[k], 0, sizeof(msgs[k]));
		msgs[k].msg_hdr.msg_name = &to[k];
		msgs[k].msg_hdr.msg_namelen = sizeof(to[k]);
		msgs[k].msg_hdr.msg_iov = iov;
		msgs[k].msg_hdr.msg_iovlen = 1;
	}
}

/* One datagram for each of n flows, in batches of sendmmsg(). */
static int udpflows(const char *src_ip, const char *dst_ip, int n)
{
	enum { BATCH = 256, PER_SOURCE = 50000 };
	static struct sockaddr_in to[BATCH];
	static struct mmsghdr msgs[BATCH];
	static struct iovec iov = { .iov_base = "f", .iov_len = 1 };
	struct sockaddr_in src = addr_of(src_ip, "0"), dst = addr_of(dst_ip, "0");
	uint32_t src0 = ntohl(src.sin_addr.s_addr);
	int fd = -1, i = 0, k, m, errors = 0, block = -1;
	double t0, secs;

	t0 = now();
	while (i < n) {
		if (i / PER_SOURCE != block) {
			block = i / PER_SOURCE;
			if (fd >= 0)
				close(fd);
			src.sin_addr.s_addr = htonl(src0 + block);
			fd = udp_from(src);
			if (fd < 0)
				return 1;
		}
		/* A batch never spans two sources. */
		m = n - i < BATCH ? n - i : BATCH;
		if (m > PER_SOURCE - i % PER_SOURCE)
			m = PER_SOURCE - i % PER_SOURCE;
		udp_batch(msgs, to, &iov, dst, 10000 + i % PER_SOURCE, m);
		k = sendmmsg(fd, msgs, m, 0);
		if (k <= 0) {
			/* A datagram refused (ENOBUFS, a full conntrack
			 * table, a failed NAT mapping): count it and go on
			 * with the next.
			 */
			errors++;
			k = 1;
		}
		i += k;
	}
	secs = now() - t0;
	printf("flows %d secs %.3f rate %.0f errors %d\n", n, secs, n / secs, errors);
	close(fd);
	return 0;
}

/* Rounds over n flows (n <= 50000) for secs seconds, in batches of sendmmsg(). */
static int udpload(const char *src_ip, const char *dst_ip, int n, double secs,
		   const char *sport)
{
	enum { BATCH = 256 };
	static struct sockaddr_in to[BATCH];
	static struct mmsghdr msgs[BATCH];
	static struct iovec iov = { .iov_base = "l", .iov_len = 1 };
	struct sockaddr_in dst = addr_of(dst_ip, "0");
	long long pkts = 0, errors = 0;
	int fd, i = 0, k, m;
	double t0, t;

	if (n < 1 || n > 50000) {
		fprintf(stderr, "connrate: udpload takes 1..50000 flows\n");
		return 2;
	}
	fd = udp_from(addr_of(src_ip, sport));
	if (fd < 0)
		return 1;
	t0 = now();
	do {
		m = n - i < BATCH ? n - i : BATCH;
		udp_batch(msgs, to, &iov, dst, 10000 + i, m);
		k = sendmmsg(fd, msgs, m, 0);
		if (k <= 0) {
			errors++;
			k = 1;
		} else {
			pkts += k;
		}
		i = (i + k) % n;
		t = now() - t0;
	} while (t < secs);
	printf("pkts %lld secs %.3f rate %.0f errors %lld\n", pkts, t, pkts / t, errors);
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 3 && !strcmp(argv[1], "serve"))
		return serve(argv[2], argc > 3 && !strcmp(argv[3], "hold"));
	if (argc == 5 && !strcmp(argv[1], "rate"))
		return rate(argv[2], argv[3], atof(argv[4]));
	if (argc == 5 && !strcmp(argv[1], "hold"))
		return hold(argv[2], argv[3], atoi(argv[4]));
	if (argc == 5 && !strcmp(argv[1], "udpflows"))
		return udpflows(argv[2], argv[3], atoi(argv[4]));
	if ((argc == 6 || argc == 7) && !strcmp(argv[1], "udpload"))
		return udpload(argv[2], argv[3], atoi(argv[4]), atof(argv[5]),
			       argc == 7 ? argv[6] : "0");
	fprintf(stderr,
		"usage: connrate serve PORT [hold] | rate ADDR PORT SECS | hold ADDR PORT N | udpflows SRC DST N | udpload SRC DST N SECS [SPORT]\n");
	return 2;
}
