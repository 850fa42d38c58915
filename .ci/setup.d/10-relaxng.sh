#!/usr/bin/env bash
# RelaxNG validation of the domain XML the converters emit: xmllint (libxml2-utils) and
# libvirt 11.3.0's schemas, the release the conformance fixtures come from. Bookworm ships
# libvirt 9.0.0, whose schema rejects newer attributes, so the schemas are taken from
# Debian trixie's libvirt-common .deb through a private source list (the system's apt
# sources are left alone) and unpacked into .cache/libvirt-schemas/ (gitignored).
set -euo pipefail
cd "$(dirname "$0")/../.."

command -v xmllint >/dev/null || apt-get install -y -qq --no-install-recommends libxml2-utils

DEST=.cache/libvirt-schemas
if [ -f "$DEST/domain.rng" ]; then exit 0; fi

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
M=$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
[ -n "$M" ] || M=$(awk '$1=="deb"{print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
[ -n "$M" ] || M=http://deb.debian.org/debian
mkdir -p "$WORK/lists/partial"
echo "deb $M trixie main" > "$WORK/sources.list"
A=(-o "Dir::Etc::SourceList=$WORK/sources.list" -o Dir::Etc::SourceParts=/dev/null -o "Dir::State::Lists=$WORK/lists" -o Debug::NoLocking=1)
apt-get "${A[@]}" update -qq
(cd "$WORK" && apt-get "${A[@]}" download libvirt-common)
dpkg -x "$WORK"/libvirt-common_*.deb "$WORK/root"
mkdir -p "$DEST"
cp "$WORK"/root/usr/share/libvirt/schemas/*.rng "$DEST/"
ver=$(dpkg-deb -f "$WORK"/libvirt-common_*.deb Version)
echo "$ver" > "$DEST/VERSION"
echo "libvirt schemas $ver in $DEST"
