# Sourced by run.sh and reliability.sh: the Xen releases the harness boots, and what
# each needs on the host before boot-dom0.sh runs.
#   4.17  Debian 12 (bookworm): this host's own Xen packages; dom0's root is the host's /.
#   4.20  Debian 13 (trixie): a root filesystem made from Debian's packages and cached in
#         .cache/xen-qemu/rootfs-trixie (make-trixie-rootfs.sh); dom0 boots its Xen,
#         kernel and userland (node 20.19), and runs a copy of this tree placed there
#         at the same path.
# XENVIRT_XEN_RELEASES picks some ("4.20", "4.17,4.20"); default: all of them.
XEN_RELEASES_ALL="4.17 4.20"

# The releases asked for, validated; prints them space-separated.
xen_releases() {
  local want=${XENVIRT_XEN_RELEASES:-$XEN_RELEASES_ALL} r out=
  for r in ${want//,/ }; do
    case " $XEN_RELEASES_ALL " in
      *" $r "*) out+="$r " ;;
      *) echo "test:xen: unknown Xen release '$r' in XENVIRT_XEN_RELEASES (known: $XEN_RELEASES_ALL)" >&2; return 1 ;;
    esac
  done
  echo "${out% }"
}

# Host-side checks and preparation for one release. Sets XQ_ROOTFS (exported, empty for
# the host's own Xen). $1 = release, $2 = repo. Returns 1 with a message when something
# is missing.
xen_release_prepare() {
  local rel=$1 repo=$2
  case $rel in
    4.17)
      export XQ_ROOTFS=
      [ -d /usr/lib/xen-4.17 ] || { echo "test:xen: Xen 4.17 needs xen-utils-4.17 on the host (.ci/setup.d/30-xen-qemu.sh)" >&2; return 1; }
      ;;
    4.20)
      local rootfs=$repo/.cache/xen-qemu/rootfs-trixie
      if [ ! -x "$rootfs/usr/sbin/xl" ] || [ ! -x "$rootfs/usr/bin/node" ] || [ ! -e "$rootfs/usr/include/xenctrl.h" ]; then
        echo "test:xen: building the trixie root filesystem (Xen 4.20) in $rootfs" >&2
        bash "$repo/test/xen/make-trixie-rootfs.sh" "$rootfs" >&2 || return 1
      fi
      export XQ_ROOTFS=$(realpath "$rootfs")
      ;;
  esac
}

# Put this tree into the root filesystem at the same path, so dom0 runs the same build
# with the same relative paths (node_modules is a symlink in worktrees: copied as a
# directory). rsync only sends what changed since the last run.
xen_release_sync_tree() {  # $1 = repo
  local repo=$1 dest=$XQ_ROOTFS$1
  [ -n "$XQ_ROOTFS" ] || return 0
  mkdir -p "$dest/node_modules"
  rsync -a --delete --exclude=/.git --exclude=/.cache --exclude=/node_modules "$repo/" "$dest/" &&
    rsync -a --delete "$(realpath "$repo/node_modules")/" "$dest/node_modules/"
}

# Build the benchmark's C reference against the release's libxenctrl. $1 = out path.
# 4.18 removed xc_domain_getinfo (it answered for the next domain) in favour of
# xc_domain_getinfo_single: chosen by what the header declares.
xen_release_build_reference() {
  local out=$1 inc=/usr/include lib=() def=()
  if [ -n "$XQ_ROOTFS" ]; then
    inc=$XQ_ROOTFS/usr/include
    lib=(-L"$XQ_ROOTFS/usr/lib/x86_64-linux-gnu" -Wl,-rpath-link,"$XQ_ROOTFS/usr/lib/x86_64-linux-gnu" -Wl,--allow-shlib-undefined)
  fi
  [ -f "$inc/xenctrl.h" ] || { echo "test:xen: no $inc/xenctrl.h (libxen-dev) for the benchmark's C reference" >&2; return 1; }
  grep -q 'xc_domain_getinfo_single' "$inc/xenctrl.h" && def=(-DXC_HAS_GETINFO_SINGLE)
  gcc -O2 -Wall "${def[@]}" -I"$inc" -o "$out" benchmarks/hypervisor/xc-domaininfo.c "${lib[@]}" -lxenctrl
}
