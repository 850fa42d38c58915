#!/bin/sh
# fake-xl.sh: stands in for Xen's `xl` (which cannot run without Xen) in the toolstack
# sub-driver's unit tests. It records its argv one argument per line (NUL-free) into
# $FAKE_XL_LOG, copies a config given to `create` to $FAKE_XL_LOG.cfg, and behaves as
# $FAKE_XL_MODE says: ok (default), fail (xl-like error on stderr, exit 1), slow.
log=${FAKE_XL_LOG:?}
{ printf 'argc=%s\n' "$#"; for a in "$@"; do printf 'arg=%s\n' "$a"; done; } >>"$log"
case "${FAKE_XL_MODE:-ok}" in
  fail)
    echo "libxl: error: libxl_domain.c:123:some_internal: detail one" >&2
    echo "${FAKE_XL_STDERR:-xl: command failed}" >&2
    exit 1 ;;
  slow) sleep 30 ;;
esac
case "$1" in
  create) cp "$2" "$log.cfg" ;;
  domid) echo 7 ;;
  info) printf 'host                   : fake\nxen_major              : 4\nxen_minor              : 17\nxen_extra              : .7\n' ;;
esac
exit 0
