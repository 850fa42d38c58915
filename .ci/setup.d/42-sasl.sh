#!/usr/bin/env bash
# test/remote/sasl.e2e.test.ts runs a libvirtd with SASL (SCRAM-SHA-256): saslpasswd2 makes its
# user database, cyrus-sasl's SCRAM plugin (libsasl2-modules) does the mechanism.
set -euo pipefail
missing=()
for p in sasl2-bin libsasl2-modules; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  # sasl2-bin ships saslauthd: keep its maintainer scripts from starting it on the CI machine.
  cleanup_policy=
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
    cleanup_policy=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=600 "${missing[@]}"
  [ -z "$cleanup_policy" ] || rm -f /usr/sbin/policy-rc.d
fi
