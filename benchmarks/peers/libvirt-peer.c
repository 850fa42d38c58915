/*
 * The libvirt side of the `peers` benchmark: what a C program gets from libvirt's public
 * API (libvirt.so talking to libvirtd over its unix socket), timed per call.
 *
 *   libvirt-peer URI DOMAIN ITER
 *
 * Prints one JSON object: per-call microseconds for
 *   getinfo   virDomainGetInfo on DOMAIN (looked up once)
 *   list      virConnectListAllDomains (all domains), freeing the handles
 *   listinfo  virConnectListAllDomains + virDomainGetInfo on each
 *   lookup    virDomainLookupByName(DOMAIN) + virDomainFree
 * and "domains", the number of domains the list returned.
 * Build: gcc -O2 -o libvirt-peer libvirt-peer.c -lvirt
 */
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static void fail(const char *what) {
  virErrorPtr e = virGetLastError();
  fprintf(stderr, "libvirt-peer: %s failed: %s\n", what, e && e->message ? e->message : "unknown error");
  exit(1);
}

static void print_samples(const char *name, const double *s, int n, int last) {
  printf("\"%s\":[", name);
  for (int i = 0; i < n; i++) printf("%s%.3f", i ? "," : "", s[i]);
  printf("]%s", last ? "" : ",");
}

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: %s URI DOMAIN ITER\n", argv[0]);
    return 2;
  }
  int iter = atoi(argv[3]);
  if (iter <= 0) {
    fprintf(stderr, "libvirt-peer: ITER must be a positive number\n");
    return 2;
  }
  virConnectPtr conn = virConnectOpen(argv[1]);
  if (!conn) fail("virConnectOpen");
  virDomainPtr dom = virDomainLookupByName(conn, argv[2]);
  if (!dom) fail("virDomainLookupByName");

  double *getinfo = calloc(iter, sizeof(double)), *list = calloc(iter, sizeof(double));
  double *listinfo = calloc(iter, sizeof(double)), *lookup = calloc(iter, sizeof(double));
  if (!getinfo || !list || !listinfo || !lookup) return 1;
  int domains = 0;
  virDomainInfo info;

  for (int i = 0; i < iter; i++) {
    double t0 = now_us();
    if (virDomainGetInfo(dom, &info) < 0) fail("virDomainGetInfo");
    getinfo[i] = now_us() - t0;
  }
  for (int i = 0; i < iter; i++) {
    virDomainPtr *doms = NULL;
    double t0 = now_us();
    int n = virConnectListAllDomains(conn, &doms, 0);
    if (n < 0) fail("virConnectListAllDomains");
    for (int k = 0; k < n; k++) virDomainFree(doms[k]);
    free(doms);
    list[i] = now_us() - t0;
    domains = n;
  }
  for (int i = 0; i < iter; i++) {
    virDomainPtr *doms = NULL;
    double t0 = now_us();
    int n = virConnectListAllDomains(conn, &doms, 0);
    if (n < 0) fail("virConnectListAllDomains");
    for (int k = 0; k < n; k++) {
      if (virDomainGetInfo(doms[k], &info) < 0) fail("virDomainGetInfo (listed)");
      virDomainFree(doms[k]);
    }
    free(doms);
    listinfo[i] = now_us() - t0;
  }
  for (int i = 0; i < iter; i++) {
    double t0 = now_us();
    virDomainPtr d = virDomainLookupByName(conn, argv[2]);
    if (!d) fail("virDomainLookupByName");
    virDomainFree(d);
    lookup[i] = now_us() - t0;
  }

  printf("{\"domains\":%d,", domains);
  print_samples("getinfo", getinfo, iter, 0);
  print_samples("list", list, iter, 0);
  print_samples("listinfo", listinfo, iter, 0);
  print_samples("lookup", lookup, iter, 1);
  printf("}\n");
  virDomainFree(dom);
  virConnectClose(conn);
  return 0;
}
