#!/usr/bin/env bash
# XenStore tests and benchmarks run Debian's real C xenstored and oxenstored as ordinary
# processes (no hypervisor: tools/xenstored/fakexen.c stubs the hypervisor calls), and the
# benchmark compares against libxenstore in C; valgrind backs `npm run memcheck`.
set -euo pipefail
need=()
for p in xen-utils-4.17 xenstore-utils libxen-dev valgrind gcc util-linux; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  # Other setup steps may hold the dpkg lock briefly; wait for it rather than fail.
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "${need[@]}"
fi
