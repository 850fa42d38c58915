# Sourced by .ci/setup.d scripts: `install_missing PKG…` installs the Debian packages that are
# not installed yet. A temporary policy-rc.d keeps their maintainer scripts from starting
# system daemons (sshd, libvirtd, saslauthd) on the CI machine; the tests start private ones.
install_missing() {
  local missing=() p cleanup_policy=
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -gt 0 ] || return 0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
    cleanup_policy=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=600 "${missing[@]}"
  [ -z "$cleanup_policy" ] || rm -f /usr/sbin/policy-rc.d
}
