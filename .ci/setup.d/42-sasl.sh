#!/usr/bin/env bash
# test/remote/sasl.e2e.test.ts runs a libvirtd with SASL (SCRAM-SHA-256): saslpasswd2 makes its
# user database, cyrus-sasl's SCRAM plugin (libsasl2-modules) does the mechanism.
set -euo pipefail
. "$(dirname "$0")/../lib/install-missing.sh"
install_missing sasl2-bin libsasl2-modules
