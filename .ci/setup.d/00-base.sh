#!/usr/bin/env bash
# Base toolchain for the native addon (node-gyp): compiler and python are on the
# image already; make sure apt's lists are fresh for the later steps.
set -euo pipefail
if [ ! -f /var/lib/apt/lists/.xenvirt-updated ] || [ -n "$(find /var/lib/apt/lists/.xenvirt-updated -mmin +720 2>/dev/null)" ]; then
  apt-get update -qq
  touch /var/lib/apt/lists/.xenvirt-updated
fi
command -v g++ >/dev/null || apt-get install -y -qq g++ make python3
