#!/usr/bin/env bash
# Inside the QEMU-booted 4.17 dom0 (npm run test:xen), libvirt 9.0.0 with its libxl and
# network drivers (test/xen/libvirt-in-dom0.sh): the peers benchmark measures it next to
# xenvirt; the xen-networks suite gives xen:/// its networks (bridge + dnsmasq for DHCP,
# iproute2); remote-xen drives its libxl driver over xen+unix:// and, through dom0's own
# sshd, xen+ssh://. libvirt-dev + gcc build the benchmark's C client. dom0 sees the host's
# files, so installing them here is what makes them available there. The host never starts
# libvirtd or sshd for this (libvirt-in-dom0.sh refuses to run outside a dom0, and
# install_missing keeps maintainer scripts from starting services).
set -euo pipefail
pkgs=(libvirt-daemon-driver-xen libvirt-daemon libvirt-clients libvirt-dev gcc dnsmasq-base iproute2
      openssh-server openssh-client)
. "$(dirname "$0")/../lib/install-missing.sh"
install_missing "${pkgs[@]}"
