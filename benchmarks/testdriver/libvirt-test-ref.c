/*
 * Reference for the test-driver benchmark: libvirt's own embedded test driver
 * (test:///default, no daemon) doing what the xenvirt case does, timed the same way.
 *
 *   libvirt-test-ref open N     -> N samples of open + lookup + getInfo + close (µs)
 *   libvirt-test-ref lookup N   -> N samples of lookup + getInfo on one open connection (µs)
 *
 * Prints one sample per line so the runner computes the statistics for both sides alike.
 */
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static void quiet(void *ud, virErrorPtr err) { (void)ud; (void)err; }

static int lookup_info(virConnectPtr conn) {
  virDomainPtr dom = virDomainLookupByName(conn, "test");
  if (!dom) return -1;
  virDomainInfo info;
  int rc = virDomainGetInfo(dom, &info);
  virDomainFree(dom);
  return rc;
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s open|lookup N\n", argv[0]);
    return 2;
  }
  int n = atoi(argv[2]);
  virSetErrorFunc(NULL, quiet);
  if (strcmp(argv[1], "open") == 0) {
    for (int i = 0; i < n; i++) {
      double t0 = now_us();
      virConnectPtr conn = virConnectOpen("test:///default");
      if (!conn || lookup_info(conn) < 0) return 1;
      virConnectClose(conn);
      printf("%.3f\n", now_us() - t0);
    }
  } else {
    virConnectPtr conn = virConnectOpen("test:///default");
    if (!conn) return 1;
    for (int i = 0; i < n; i++) {
      double t0 = now_us();
      if (lookup_info(conn) < 0) return 1;
      printf("%.3f\n", now_us() - t0);
    }
    virConnectClose(conn);
  }
  return 0;
}
