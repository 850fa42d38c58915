/*
 * xsref.c - the C reference for benchmarks/cases/xenstore.bench.ts: the same four
 * measurements made through Debian's libxenstore (one request in flight at a time),
 * against the daemon named by XENSTORED_PATH.
 *
 * Build: gcc -O2 -Wall -o xsref xsref.c -lxenstore
 * Run:   XENSTORED_PATH=.../socket ./xsref N_SEQ N_BATCH N_DIR N_TX
 * Output, one line per case: "<case> <sample> <sample> ..." (microseconds, or ops/s
 * for batch1000), or "<case> FAILED <reason>" when libxenstore cannot do it.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <xenstore.h>

static double now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static void emit(const char *name, const double *v, size_t n)
{
	printf("%s", name);
	for (size_t i = 0; i < n; i++)
		printf(" %.3f", v[i]);
	putchar('\n');
	fflush(stdout);
}

static void die(const char *what)
{
	fprintf(stderr, "xsref: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* Write the 1000 children in one transaction, retrying on conflict. */
static void make_children(struct xs_handle *h, const char *dir)
{
	char path[128];
	for (;;) {
		xs_transaction_t t = xs_transaction_start(h);
		if (!t)
			die("transaction_start");
		for (int i = 0; i < 1000; i++) {
			snprintf(path, sizeof(path), "%s/c%04d", dir, i);
			if (!xs_write(h, t, path, "", 0))
				die("write child");
		}
		if (xs_transaction_end(h, t, false))
			return;
		if (errno != EAGAIN)
			die("transaction_end");
	}
}

int main(int argc, char **argv)
{
	size_t n_seq = argc > 1 ? strtoul(argv[1], NULL, 0) : 20000;
	size_t n_batch = argc > 2 ? strtoul(argv[2], NULL, 0) : 30;
	size_t n_dir = argc > 3 ? strtoul(argv[3], NULL, 0) : 300;
	size_t n_tx = argc > 4 ? strtoul(argv[4], NULL, 0) : 100;
	size_t most = n_seq > n_dir ? n_seq : n_dir;
	double *v = malloc(sizeof(*v) * (most > n_tx ? most : n_tx) + sizeof(*v) * n_batch);
	struct xs_handle *h = xs_open(0);
	unsigned int len;
	char buf[64], path[64];

	if (!h || !v)
		die("xs_open");
	xs_rm(h, XBT_NULL, "/bench-c");
	if (!xs_write(h, XBT_NULL, "/bench-c/key", "value-0123456789", 16))
		die("setup write");

	/* (1) sequential read latency */
	for (int i = 0; i < 1000; i++)
		free(xs_read(h, XBT_NULL, "/bench-c/key", &len));
	for (size_t i = 0; i < n_seq; i++) {
		double t0 = now_us();
		char *r = xs_read(h, XBT_NULL, "/bench-c/key", &len);
		v[i] = now_us() - t0;
		if (!r)
			die("xs_read");
		free(r);
	}
	emit("seqread", v, n_seq);

	/* (2) 1000 reads, one at a time (libxenstore cannot pipeline): ops/s per batch */
	for (size_t b = 0; b < n_batch; b++) {
		double t0 = now_us();
		for (int i = 0; i < 1000; i++) {
			char *r = xs_read(h, XBT_NULL, "/bench-c/key", &len);
			if (!r)
				die("xs_read");
			free(r);
		}
		v[b] = 1000 / ((now_us() - t0) / 1e6);
	}
	emit("batch1000", v, n_batch);

	/* (3) directory of 1000 children named c0000..c0999: a 6000-byte list */
	make_children(h, "/bench-c/dir");
	size_t done = 0;
	for (size_t i = 0; i < n_dir; i++) {
		unsigned int num = 0;
		double t0 = now_us();
		char **d = xs_directory(h, XBT_NULL, "/bench-c/dir", &num);
		v[done] = now_us() - t0;
		if (!d || num != 1000) {
			printf("dir1000 FAILED xs_directory: %s (num=%u)\n", d ? "short list" : strerror(errno), num);
			free(d);
			xs_close(h); /* libxenstore drops the connection on an oversized reply */
			h = xs_open(0);
			if (!h)
				die("xs_open");
			break;
		}
		free(d);
		done++;
	}
	if (done == n_dir) {
		emit("dir1000", v, n_dir);
		/* (3b) the same, but the child list changes first each time (child c1000
		 * added, then removed): a modification plus a listing, so no client can
		 * reuse an earlier listing */
		for (size_t i = 0; i < n_dir; i++) {
			unsigned int num = 0;
			double t0 = now_us();
			bool ok = i % 2 == 0 ? xs_write(h, XBT_NULL, "/bench-c/dir/c1000", "", 0)
					     : xs_rm(h, XBT_NULL, "/bench-c/dir/c1000");
			if (!ok)
				die("change dir child");
			char **d = xs_directory(h, XBT_NULL, "/bench-c/dir", &num);
			v[i] = now_us() - t0;
			if (!d || num != (i % 2 == 0 ? 1001u : 1000u))
				die("xs_directory after change");
			free(d);
		}
		emit("dirchg", v, n_dir);
	}

	/* (4) transaction of 100 writes (start, 100 writes, commit; retried on EAGAIN) */
	for (size_t k = 0; k < n_tx; k++) {
		double t0 = now_us();
		for (;;) {
			xs_transaction_t t = xs_transaction_start(h);
			if (!t)
				die("transaction_start");
			for (int i = 0; i < 100; i++) {
				snprintf(path, sizeof(path), "/bench-c/tx/k%02d", i);
				int l = snprintf(buf, sizeof(buf), "%zu", k);
				if (!xs_write(h, t, path, buf, l))
					die("tx write");
			}
			if (xs_transaction_end(h, t, false))
				break;
			if (errno != EAGAIN)
				die("transaction_end");
		}
		v[k] = now_us() - t0;
	}
	emit("tx100", v, n_tx);

	xs_rm(h, XBT_NULL, "/bench-c");
	xs_close(h);
	free(v);
	return 0;
}
