#!/usr/bin/env bash
# make-tarball.sh TREE VERSION ARCH OUT_DIR -> OUT_DIR/fieldgate-VERSION-linux-ARCH.tar.gz
# The package tree (what the .deb puts in /opt/fieldgate) plus install.sh, under one top folder,
# owned by root, in a stable order.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
tree="$1" version="$2" arch="$3" out="$4"
name="fieldgate-$version-linux-$arch"
stage="$(dirname "$tree")/tarball"
rm -rf "$stage"
mkdir -p "$stage"
cp -a "$tree" "$stage/$name"
install -m 0755 "$here/../files/install.sh" "$stage/$name/install.sh"
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime="@${SOURCE_DATE_EPOCH:-$(git -C "$here" log -1 --format=%ct 2>/dev/null || date +%s)}" \
  -C "$stage" -cf - "$name" | gzip -n -6 > "$out/$name.tar.gz.tmp"
mv "$out/$name.tar.gz.tmp" "$out/$name.tar.gz"
rm -rf "$stage"
echo "  $out/$name.tar.gz"
