/*
 * C reference for benchmarks/cases/hypervisor.bench.ts: the same two questions asked
 * through libxenctrl (of the Xen release in dom0), timed per call with CLOCK_MONOTONIC.
 *
 *   xc-domaininfo SAMPLES CALLS_PER_SAMPLE BATCH DOMID
 *
 * Each sample times CALLS_PER_SAMPLE back-to-back calls and reports the mean per call,
 * so the clock's own cost (a system call under Xen PV) does not dominate. Prints one
 * JSON object: per-call microseconds for
 *   getinfolist: xc_domain_getinfolist(xch, 0, BATCH, buf)   (sysctl getdomaininfolist)
 *   getinfo:     domctl getdomaininfo of DOMID: xc_domain_getinfo_single() where it
 *                exists (Xen 4.18 on, build with -DXC_HAS_GETINFO_SINGLE), else
 *                xc_domain_getinfo(xch, DOMID, 1, &info) (removed in 4.18)
 *   syscall:     getppid(), a bare system call with no hypercall: what entering and
 *                leaving the kernel costs this process (Node's process.ppid is the
 *                same call, so the two show the cost of each runtime's call path alone)
 * The two loops alternate in rounds so slow drift under emulation hits both alike.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <xenctrl.h>

static double now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

int main(int argc, char **argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: %s SAMPLES CALLS_PER_SAMPLE BATCH DOMID\n", argv[0]);
    return 2;
  }
  int n = atoi(argv[1]), k = atoi(argv[2]), batch = atoi(argv[3]);
  uint32_t domid = (uint32_t)atoi(argv[4]);
  if (n <= 0 || k <= 0 || batch <= 0) return 2;
  xc_interface *xch = xc_interface_open(NULL, NULL, 0);
  if (!xch) {
    perror("xc_interface_open");
    return 1;
  }
  xc_domaininfo_t *buf = calloc(batch, sizeof(*buf));
  double *list_us = calloc(n, sizeof(double)), *one_us = calloc(n, sizeof(double));
  double *sys_us = calloc(n, sizeof(double));
  volatile pid_t ppid = 0;
#ifdef XC_HAS_GETINFO_SINGLE
  xc_domaininfo_t info;
#define GET_ONE() (xc_domain_getinfo_single(xch, domid, &info) == 0 && info.domain == domid)
  const char *api = "xc_domain_getinfo_single";
#else
  xc_dominfo_t info;
#define GET_ONE() (xc_domain_getinfo(xch, domid, 1, &info) == 1 && info.domid == domid)
  const char *api = "xc_domain_getinfo";
#endif
  if (!buf || !list_us || !one_us || !sys_us) return 1;
  int seen = 0;
  for (int i = 0; i < 50; i++) { /* warm-up: page in libxc's hypercall buffer cache */
    xc_domain_getinfolist(xch, 0, batch, buf);
    (void)GET_ONE();
  }
  const int round = 20;
  for (int start = 0; start < n; start += round) {
    int end = start + round < n ? start + round : n;
    for (int i = start; i < end; i++) {
      double t0 = now_us();
      for (int j = 0; j < k; j++) {
        int got = xc_domain_getinfolist(xch, 0, batch, buf);
        if (got < 1) {
          perror("xc_domain_getinfolist");
          return 1;
        }
        seen = got;
      }
      list_us[i] = (now_us() - t0) / k;
    }
    for (int i = start; i < end; i++) {
      double t0 = now_us();
      for (int j = 0; j < k; j++) {
        if (!GET_ONE()) {
          fprintf(stderr, "%s(%u) failed\n", api, domid);
          return 1;
        }
      }
      one_us[i] = (now_us() - t0) / k;
    }
    for (int i = start; i < end; i++) {
      double t0 = now_us();
      for (int j = 0; j < k; j++) ppid = (pid_t)syscall(SYS_getppid);
      sys_us[i] = (now_us() - t0) / k;
    }
  }
  printf("{\"api\":\"%s\",\"domains\":%d,\"getinfolist\":[", api, seen);
  for (int i = 0; i < n; i++) printf("%s%.3f", i ? "," : "", list_us[i]);
  printf("],\"getinfo\":[");
  for (int i = 0; i < n; i++) printf("%s%.3f", i ? "," : "", one_us[i]);
  printf("],\"syscall\":[");
  for (int i = 0; i < n; i++) printf("%s%.3f", i ? "," : "", sys_us[i]);
  printf("]}\n");
  (void)ppid;
  free(buf);
  free(list_us);
  free(one_us);
  free(sys_us);
  xc_interface_close(xch);
  return 0;
}
