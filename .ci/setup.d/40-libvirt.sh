#!/usr/bin/env bash
# The remote driver's tests and benchmark run Debian's real libvirtd 9.0.0 as an unprivileged
# process (test/helpers/libvirtd.ts): unix socket, TCP, and TLS with a throw-away CA made by
# openssl; virsh cross-checks answers; a local sshd on 127.0.0.1 carries the ssh transport
# (test/helpers/sshd.ts), whose far side is virt-ssh-helper or `nc -U`; QEMU runs the
# qemu:///session guests; libvirt-dev + gcc build the C client the benchmark compares against.
# iptables, dnsmasq-base and iproute2 serve a root libvirtd's real NAT networks, run by the
# tests inside private mount and network namespaces (nothing reaches the host's network).
set -euo pipefail
pkgs=(libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients libvirt-dev pkg-config gcc
      openssl gnutls-bin openssh-server openssh-client netcat-openbsd util-linux
      qemu-system-x86 busybox-static cpio iptables dnsmasq-base iproute2)
. "$(dirname "$0")/../lib/install-missing.sh"
install_missing "${pkgs[@]}"
