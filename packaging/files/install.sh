#!/bin/sh
# Installs fieldgate from this unpacked release tarball on a systemd Linux without dpkg (the same
# files and set-up as the .deb: program in /opt/fieldgate with its own Node runtime, the hardened
# unit, the fieldgate user, /etc/fieldgate/config.yaml only if absent, /var/lib/fieldgate).
#
#   sudo ./install.sh                       install, or upgrade in place (restarts the service)
#   sudo ./install.sh --uninstall           stop and remove the program; keep configuration and journal
#   sudo ./install.sh --uninstall --purge   also delete /etc/fieldgate, /var/lib/fieldgate and the user
set -eu
here="$(cd "$(dirname "$0")" && pwd)"
FG_PREFIX=/opt/fieldgate
UNIT=/etc/systemd/system/fieldgate.service
LINK=/usr/local/bin/fieldgate
# The repository keeps it next to this script; the tarball in share/.
# shellcheck source=SCRIPTDIR/setup-functions.sh
. "$here/share/setup-functions.sh"

action=install purge=0
for arg in "$@"; do
  case "$arg" in
    --uninstall) action=uninstall ;;
    --purge) purge=1 ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) echo "install.sh: unknown option $arg" >&2; exit 2 ;;
  esac
done
[ "$(id -u)" = 0 ] || { echo "install.sh: run as root" >&2; exit 1; }
fg_check_not_packaged || exit 1

if [ "$action" = uninstall ]; then
  fg_service_stop
  fg_service_disable
  rm -f "$UNIT"
  fg_remove_link "$LINK"
  fg_program_remove
  if [ "$purge" = 1 ]; then fg_purge; else
    fg_say "kept $FG_CONFIG_DIR and $FG_STATE_DIR; ./install.sh --uninstall --purge deletes them"
  fi
  if fg_systemd_running; then systemctl daemon-reload; fi
  exit 0
fi

# The machine must be able to run the bundled runtime (right architecture, C library new enough).
if ! "$here/node/bin/node" -e 0 2>/dev/null; then
  echo "install.sh: the bundled Node runtime does not run here (architecture $(uname -m)); wrong tarball?" >&2
  exit 1
fi
first=first
[ -e "$FG_PREFIX/bin/fieldgate" ] && first=again
fg_program_stage
for item in "$here"/* ; do
  [ "$(basename "$item")" = install.sh ] || cp -a "$item" "$FG_PREFIX.new/"
done
fg_program_commit
ln -sfn "$FG_PREFIX/bin/fieldgate" "$LINK"
install -m 0644 "$FG_PREFIX/systemd/fieldgate.service" "$UNIT"
fg_ensure_user
fg_install_config
fg_service_installed "$first"
fg_say "installed $(cat "$FG_PREFIX/VERSION") in $FG_PREFIX (command: $LINK); site file: $FG_CONFIG_DIR/config.yaml"
