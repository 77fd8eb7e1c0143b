#!/usr/bin/env bash
# make-deb.sh TREE VERSION ARCH OUT_DIR -> OUT_DIR/fieldgate_VERSION_ARCH.deb
# Lays the package tree out as installed (/opt/fieldgate, /usr/bin/fieldgate, the unit in
# /lib/systemd/system), writes the control file (Depends computed from the ELF files) and the
# maintainer scripts (packaging/deb/*, with packaging/files/setup-functions.sh inlined: postrm runs
# after /opt/fieldgate is gone, so it cannot source it from there), and builds with dpkg-deb.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
tree="$1" version="$2" arch="$3" out="$4"
# npm pre-releases (1.2.0-rc.1) sort before the release in Debian only with a tilde.
debversion="${version//-/\~}"
root="$(dirname "$tree")/deb-root"
rm -rf "$root"
mkdir -p "$root/opt" "$root/usr/bin" "$root/lib/systemd/system" "$root/usr/share/doc/fieldgate" "$root/DEBIAN"
cp -a "$tree" "$root/opt/fieldgate"
ln -s /opt/fieldgate/bin/fieldgate "$root/usr/bin/fieldgate"
install -m 0644 "$tree/systemd/fieldgate.service" "$root/lib/systemd/system/fieldgate.service"
install -m 0644 "$tree/LICENSE" "$root/usr/share/doc/fieldgate/copyright"
chmod -R u+rwX,go+rX,go-w "$root"

depends="$("$here/deb-depends.sh" "$root/opt/fieldgate"), passwd"
size="$(du -sk --apparent-size "$root" | cut -f1)"
cat > "$root/DEBIAN/control" <<CONTROL
Package: fieldgate
Version: $debversion
Architecture: $arch
Maintainer: fieldgate maintainers <fieldgate@localhost>
Installed-Size: $size
Depends: $depends
Section: net
Priority: optional
Homepage: https://github.com/fieldgate/fieldgate
Description: IoT gateway: Modbus, serial and BLE sensors to MQTT
 fieldgate polls Modbus TCP/RTU, serial-line and BLE sensors, maps readings to MQTT topics
 through a YAML site file, journals them in SQLite and forwards them to an upstream broker,
 replaying the backlog after an outage. Runs as the hardened systemd service fieldgate.
 .
 This package bundles its own Node.js $(cat "$tree/node/VERSION" | sed 's/.*@//') runtime in /opt/fieldgate/node;
 the system's Node (if any) is not used. The site file is /etc/fieldgate/config.yaml,
 written from the annotated example on first install and never overwritten.
CONTROL
for script in postinst prerm postrm; do
  awk -v lib="$here/../files/setup-functions.sh" '
    /^#@SETUP_FUNCTIONS@$/ { while ((getline line < lib) > 0) print line; next } { print }' \
    "$here/../deb/$script" > "$root/DEBIAN/$script"
  chmod 0755 "$root/DEBIAN/$script"
done
(cd "$root" && find opt usr lib -type f -print0 | sort -z | xargs -0 md5sum > DEBIAN/md5sums)
deb="$out/fieldgate_${debversion}_$arch.deb"
dpkg-deb --root-owner-group -Zgzip -z9 --build "$root" "$deb.tmp" >/dev/null
mv "$deb.tmp" "$deb"
rm -rf "$root"
echo "  $deb  (Depends: $depends)"
