# fieldgate host set-up, shared by the .deb's maintainer scripts (copied into them when the package
# is built: postrm runs after the program's files are gone) and by the tarball's install.sh.
# Functions only; the caller sets FG_PREFIX (the installed program, e.g. /opt/fieldgate).
FG_NAME=fieldgate
FG_CONFIG_DIR=/etc/fieldgate
FG_STATE_DIR=/var/lib/fieldgate

fg_say() { printf 'fieldgate: %s\n' "$*"; }
fg_systemd_running() { [ -d /run/systemd/system ]; }

# The service account and the groups the unit's SupplementaryGroups= names (systemd refuses to
# start a unit whose group is missing, so empty system groups are created when BlueZ or udev's
# serial rules have not made them yet).
fg_ensure_user() {
  if ! getent group "$FG_NAME" >/dev/null 2>&1; then groupadd --system "$FG_NAME"; fi
  if ! getent passwd "$FG_NAME" >/dev/null 2>&1; then
    useradd --system --gid "$FG_NAME" --home-dir "$FG_STATE_DIR" --no-create-home \
      --shell /usr/sbin/nologin --comment "fieldgate IoT gateway" "$FG_NAME"
    fg_say "created system user $FG_NAME"
  fi
  for g in dialout bluetooth; do
    if ! getent group "$g" >/dev/null 2>&1; then groupadd --system "$g"; fi
    usermod --append --groups "$g" "$FG_NAME"
  done
  install -d -o "$FG_NAME" -g "$FG_NAME" -m 0750 "$FG_STATE_DIR"
}

# The site file and the secrets file: written from the annotated example only when absent, so an
# operator's edits survive every upgrade; root-owned, readable by the service's group only.
fg_install_config() {
  install -d -o root -g "$FG_NAME" -m 0750 "$FG_CONFIG_DIR"
  if [ ! -e "$FG_CONFIG_DIR/config.yaml" ]; then
    install -o root -g "$FG_NAME" -m 0640 "$FG_PREFIX/config/example.yaml" "$FG_CONFIG_DIR/config.yaml"
    fg_say "wrote $FG_CONFIG_DIR/config.yaml from the annotated example; edit it for this site"
  fi
  if [ ! -e "$FG_CONFIG_DIR/env" ]; then
    (umask 0027 && cat >"$FG_CONFIG_DIR/env" <<'ENV'
# Environment for fieldgate.service (systemd EnvironmentFile=): secrets referenced as ${VAR} in
# config.yaml, e.g.
#   MQTT_PASSWORD=change-me
# Keep this file mode 0640 root:fieldgate. After editing: systemctl restart fieldgate
ENV
    )
    chown "root:$FG_NAME" "$FG_CONFIG_DIR/env"
    chmod 0640 "$FG_CONFIG_DIR/env"
  fi
}

# First install: enable and start. Upgrade (or reinstall after a remove): restart if enabled, as
# Debian's own services do. Without a running systemd (image build, chroot) only the enablement link.
fg_service_installed() {
  if fg_systemd_running; then
    systemctl daemon-reload
    if [ "$1" = first ]; then
      # restart, not start: a service an earlier non-package install left running moves to the new files.
      systemctl enable "$FG_NAME.service" && systemctl restart "$FG_NAME.service" \
        || fg_say "could not start $FG_NAME; see: journalctl -u $FG_NAME"
    elif systemctl is-enabled --quiet "$FG_NAME.service"; then
      systemctl restart "$FG_NAME.service" || fg_say "restart failed; see: journalctl -u $FG_NAME"
    fi
  elif [ "$1" = first ]; then
    systemctl enable "$FG_NAME.service" >/dev/null 2>&1 || true
  fi
}

# Stops the service. The enablement link stays until purge (or `disable`), so a reinstall after a
# remove runs again as before.
fg_service_stop() {
  if fg_systemd_running; then systemctl stop "$FG_NAME.service" >/dev/null 2>&1 || true; fi
}

fg_service_disable() {
  systemctl disable "$FG_NAME.service" >/dev/null 2>&1 || true
  rm -f "/etc/systemd/system/multi-user.target.wants/$FG_NAME.service"
}

# The .deb taking over from a source checkout's systemd/install.sh or the tarball: their unit in
# /etc would shadow the package's, and their /usr/local/bin link (earlier on PATH) would run the old
# launcher. Both are set aside; configuration and journal are shared and stay.
fg_adopt_earlier_install() {
  if [ -f /etc/systemd/system/fieldgate.service ]; then
    mv /etc/systemd/system/fieldgate.service /etc/systemd/system/fieldgate.service.pre-package
    fg_say "moved the unit of an earlier install to /etc/systemd/system/fieldgate.service.pre-package"
  fi
  case "$(readlink /usr/local/bin/fieldgate 2>/dev/null)" in
    /opt/fieldgate/*) rm -f /usr/local/bin/fieldgate ;;
  esac
}

# Deletes the configuration, the journal (unsent readings!) and the account.
fg_purge() {
  rm -rf "$FG_CONFIG_DIR" "$FG_STATE_DIR" "/etc/systemd/system/$FG_NAME.service.d"
  if getent passwd "$FG_NAME" >/dev/null 2>&1; then userdel "$FG_NAME" >/dev/null 2>&1 || true; fi
  if getent group "$FG_NAME" >/dev/null 2>&1; then groupdel "$FG_NAME" >/dev/null 2>&1 || true; fi
  fg_say "purged $FG_CONFIG_DIR, $FG_STATE_DIR and the $FG_NAME user"
}
