/*
 * libvirt-client.c - the C reference for benchmarks/cases/remote.bench.ts: libvirt's own
 * client library (libvirt-dev) against the same daemon xenvirt's remote driver talks to.
 *
 * Build: gcc -O2 -Wall -pthread -o libvirt-client libvirt-client.c $(pkg-config --cflags --libs libvirt)
 * Run:   ./libvirt-client URI DOMAIN N_ONE N_BATCH THREADS N_CONNECT
 * Output, one line per case, samples separated by spaces:
 *   getinfo    <µs>...      one virDomainGetInfo round trip, one call at a time
 *   seq1000    <calls/s>... 1000 virDomainGetInfo calls one after the other
 *   thread1000 <calls/s>... 1000 calls shared by THREADS threads on the one connection
 *   connect    <µs>...      virConnectOpen to a ready connection (closed untimed)
 * On failure: "<case> FAILED <libvirt's message>" and exit status 1.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

static double now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static void emit(const char *name, const double *v, int n)
{
	printf("%s", name);
	for (int i = 0; i < n; i++)
		printf(" %.3f", v[i]);
	putchar('\n');
	fflush(stdout);
}

static void fail(const char *name)
{
	const char *msg = virGetLastErrorMessage();
	printf("%s FAILED %s\n", name, msg ? msg : "unknown error");
	exit(1);
}

/* libvirt prints every error to stderr by default; the failures are reported above. */
static void quiet(void *opaque, virErrorPtr err)
{
	(void)opaque;
	(void)err;
}

struct worker {
	virDomainPtr dom;
	int calls;
	int failed;
	pthread_t tid;
};

static void *work(void *arg)
{
	struct worker *w = arg;
	virDomainInfo info;
	for (int i = 0; i < w->calls; i++)
		if (virDomainGetInfo(w->dom, &info) < 0)
			w->failed = 1;
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc != 7) {
		fprintf(stderr, "usage: %s URI DOMAIN N_ONE N_BATCH THREADS N_CONNECT\n", argv[0]);
		return 2;
	}
	const char *uri = argv[1], *name = argv[2];
	int n_one = atoi(argv[3]), n_batch = atoi(argv[4]), threads = atoi(argv[5]), n_connect = atoi(argv[6]);
	if (n_one < 1 || n_batch < 1 || threads < 1 || n_connect < 1) {
		fprintf(stderr, "counts must be positive\n");
		return 2;
	}
	virSetErrorFunc(NULL, quiet);

	virConnectPtr conn = virConnectOpen(uri);
	if (!conn)
		fail("open");
	virDomainPtr dom = virDomainLookupByName(conn, name);
	if (!dom)
		fail("lookup");
	virDomainInfo info;
	for (int i = 0; i < 200; i++) /* warm up */
		if (virDomainGetInfo(dom, &info) < 0)
			fail("getinfo");

	double *v = calloc(n_one > n_connect ? (n_one > n_batch ? n_one : n_batch) : (n_connect > n_batch ? n_connect : n_batch), sizeof(double));
	if (!v)
		return 1;

	for (int i = 0; i < n_one; i++) {
		double t0 = now_us();
		if (virDomainGetInfo(dom, &info) < 0)
			fail("getinfo");
		v[i] = now_us() - t0;
	}
	emit("getinfo", v, n_one);

	for (int b = 0; b < n_batch; b++) {
		double t0 = now_us();
		for (int i = 0; i < 1000; i++)
			if (virDomainGetInfo(dom, &info) < 0)
				fail("seq1000");
		v[b] = 1000 / ((now_us() - t0) / 1e6);
	}
	emit("seq1000", v, n_batch);

	struct worker *w = calloc(threads, sizeof(*w));
	for (int b = 0; b < n_batch; b++) {
		double t0 = now_us();
		for (int t = 0; t < threads; t++) {
			w[t].dom = dom;
			w[t].calls = 1000 / threads + (t < 1000 % threads ? 1 : 0);
			w[t].failed = 0;
			if (pthread_create(&w[t].tid, NULL, work, &w[t]) != 0) {
				printf("thread1000 FAILED pthread_create\n");
				return 1;
			}
		}
		for (int t = 0; t < threads; t++) {
			pthread_join(w[t].tid, NULL);
			if (w[t].failed)
				fail("thread1000");
		}
		v[b] = 1000 / ((now_us() - t0) / 1e6);
	}
	emit("thread1000", v, n_batch);

	for (int i = 0; i < n_connect; i++) {
		double t0 = now_us();
		virConnectPtr c = virConnectOpen(uri);
		if (!c)
			fail("connect");
		v[i] = now_us() - t0;
		virConnectClose(c);
	}
	emit("connect", v, n_connect);

	free(w);
	free(v);
	virDomainFree(dom);
	virConnectClose(conn);
	return 0;
}
