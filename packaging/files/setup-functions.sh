# fieldgate host set-up, one implementation of each step for every installer: the .deb's maintainer
# scripts (copied into them when the package is built: postrm runs after the program's files are
# gone), the tarball's install.sh and a source checkout's systemd/install.sh. POSIX sh (dash runs the
# maintainer scripts). Functions only; the caller sets FG_PREFIX (the installed program, e.g.
# /opt/fieldgate) and may set, after sourcing:
#   FG_ROOT=DIR     stage under DIR instead of this machine (systemd/install.sh --root): files are
#                   written under DIR; accounts and ownership are printed, not applied; no systemctl
#   FG_SYSTEMCTL=0  never run systemctl (systemd/install.sh --no-systemctl)
# Both are reset here, so a variable of that name inherited from the environment cannot turn a
# package install into a staged one.
FG_NAME=fieldgate
FG_CONFIG_DIR=/etc/fieldgate
FG_STATE_DIR=/var/lib/fieldgate
FG_ROOT=
FG_SYSTEMCTL=1

fg_say() { printf 'fieldgate: %s\n' "$*"; }
fg_staging() { [ -n "$FG_ROOT" ]; }
# systemd manages this machine and may be told about changes.
fg_systemd_running() { [ "$FG_SYSTEMCTL" = 1 ] && ! fg_staging && [ -d /run/systemd/system ]; }

# Changes to the host's accounts and ownership: a staging root is not this host, so there they are
# printed for whoever assembles the image, quoted as a shell would need them.
fg_host() {
  if fg_staging; then
    fg_line=
    for fg_arg in "$@"; do fg_line="$fg_line $(fg_quote "$fg_arg")"; done
    fg_say "(staging) would run:$fg_line"
  else
    "$@"
  fi
}

fg_quote() {
  case "$1" in
    '' | *[!A-Za-z0-9_./:=@%+,-]*) printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")" ;;
    *) printf '%s' "$1" ;;
  esac
}

# The .deb owns /opt/fieldgate and its unit: the tarball's or a checkout's installer writing (or
# removing) them would leave dpkg's records wrong and shadow the package's unit.
fg_check_not_packaged() {
  if [ -f "$FG_ROOT/var/lib/dpkg/info/$FG_NAME.list" ]; then
    echo "fieldgate: the fieldgate .deb is installed; use apt/dpkg to upgrade or remove it" >&2
    return 1
  fi
}

# The service account and the groups the unit's SupplementaryGroups= names (systemd refuses to
# start a unit whose group is missing, so empty system groups are created when BlueZ or udev's
# serial rules have not made them yet). A staging root's accounts are unknown: every step is listed.
fg_ensure_user() {
  # The group first and on its own: `useradd --user-group` fails when a group of that name is left
  # over (a purge whose groupdel failed, or made by hand).
  if fg_staging || ! getent group "$FG_NAME" >/dev/null 2>&1; then
    fg_host groupadd --system "$FG_NAME"
  fi
  if fg_staging || ! getent passwd "$FG_NAME" >/dev/null 2>&1; then
    # No home directory is created: it is the state directory, made below and by StateDirectory=.
    fg_host useradd --system --gid "$FG_NAME" --home-dir "$FG_STATE_DIR" --no-create-home \
      --shell /usr/sbin/nologin --comment "fieldgate IoT gateway" "$FG_NAME"
    if ! fg_staging; then fg_say "created system user $FG_NAME"; fi
  else
    fg_check_existing_user
    if [ "$(id -gn "$FG_NAME")" != "$FG_NAME" ]; then
      # An account made earlier with another primary group: the service runs with Group=fieldgate
      # anyway, but `runuser -u fieldgate -- fieldgate validate` must read the root:fieldgate files too.
      usermod --append --groups "$FG_NAME" "$FG_NAME"
      fg_say "added the existing user $FG_NAME to the group $FG_NAME"
    fi
  fi
  for fg_group in dialout bluetooth; do
    if fg_staging || ! getent group "$fg_group" >/dev/null 2>&1; then
      fg_host groupadd --system "$fg_group"
    fi
    # Serial adapters are root:dialout 0660; BlueZ's D-Bus policy admits the bluetooth group.
    fg_host usermod --append --groups "$fg_group" "$FG_NAME"
  done
  # systemd creates StateDirectory= at start; making it now as well lets an operator run
  # `fieldgate buffer …` (or the daemon outside systemd) as the service user straight away.
  fg_host install -d -o "$FG_NAME" -g "$FG_NAME" -m 0750 "$FG_ROOT$FG_STATE_DIR"
}

# An account of that name made by someone else is used as it is, but a login account is not what
# a daemon should run as: say so (the service's sandbox still applies, whatever its shell).
fg_check_existing_user() {
  fg_entry="$(getent passwd "$FG_NAME")"
  fg_uid="$(printf '%s' "$fg_entry" | cut -d: -f3)"
  fg_shell="$(printf '%s' "$fg_entry" | cut -d: -f7)"
  fg_sys_max="$(awk '$1 == "SYS_UID_MAX" { print $2 }' /etc/login.defs 2>/dev/null)"
  if [ "$fg_uid" -gt "${fg_sys_max:-999}" ]; then
    fg_say "warning: the existing user $FG_NAME is not a system account (uid $fg_uid); the service runs as it anyway"
  fi
  case "$fg_shell" in
    */nologin | */false) ;;
    *) fg_say "warning: the existing user $FG_NAME has the login shell ${fg_shell:-(none)}; a service account needs none: usermod --shell /usr/sbin/nologin $FG_NAME" ;;
  esac
}

# A kept file the service user cannot read (an operator's chmod 600, a copy owned by another user)
# would only show as a failed start: say so now, and how to fix it. Its owner and mode stay as they
# are: they may be deliberate, and the installer does not rewrite an operator's file.
fg_check_config_readable() {
  if fg_staging || ! id "$FG_NAME" >/dev/null 2>&1 || ! command -v runuser >/dev/null 2>&1; then return 0; fi
  if ! runuser -u "$FG_NAME" -- test -r "$1" 2>/dev/null; then
    fg_say "warning: the user $FG_NAME cannot read $1 ($(stat -c '%U:%G %a' "$1")); the service will not start until it can, e.g.: chown root:$FG_NAME $1 && chmod 0640 $1"
  fi
}

# The site file and the secrets file: written from the annotated example only when absent, so an
# operator's edits survive every upgrade; root-owned, readable by the service's group only (the
# service must not rewrite its own configuration). The directory's owner and mode are set on every
# run. Mode first, owner second: in between the files are root:root, stricter than the end state.
fg_install_config() {
  fg_dir="$FG_ROOT$FG_CONFIG_DIR"
  install -d -m 0750 "$fg_dir"
  fg_host chown "root:$FG_NAME" "$fg_dir"
  if [ -e "$fg_dir/config.yaml" ]; then
    fg_say "kept existing $FG_CONFIG_DIR/config.yaml (the new example is $FG_PREFIX/config/example.yaml)"
    fg_check_config_readable "$FG_CONFIG_DIR/config.yaml"
  else
    install -m 0640 "$FG_ROOT$FG_PREFIX/config/example.yaml" "$fg_dir/config.yaml"
    fg_host chown "root:$FG_NAME" "$fg_dir/config.yaml"
    fg_say "wrote $FG_CONFIG_DIR/config.yaml from the annotated example; edit it for this site"
  fi
  if [ -e "$fg_dir/env" ]; then
    fg_say "kept existing $FG_CONFIG_DIR/env"
  else
    (umask 0027 && cat >"$fg_dir/env" <<'ENV'
# Environment for fieldgate.service (systemd EnvironmentFile=): secrets referenced as ${VAR} in
# config.yaml, e.g.
#   MQTT_PASSWORD=change-me
# Keep this file mode 0640 root:fieldgate. After editing: systemctl restart fieldgate
ENV
    )
    chmod 0640 "$fg_dir/env"
    fg_host chown "root:$FG_NAME" "$fg_dir/env"
    fg_say "wrote $FG_CONFIG_DIR/env for secrets"
  fi
}

# The program directory is replaced whole: the new copy is assembled next to it in $FG_PREFIX.new
# (emptied by fg_program_stage), made root's and not writable by the service (nor by anything that
# subverts it), then swapped in by fg_program_commit, so a failed copy never leaves half a program.
fg_program_stage() {
  rm -rf "$FG_ROOT$FG_PREFIX.new" "$FG_ROOT$FG_PREFIX.old"
  mkdir -p "$FG_ROOT$FG_PREFIX.new"
}

fg_program_commit() {
  fg_dest="$FG_ROOT$FG_PREFIX"
  chmod -R go-w "$fg_dest.new"
  # Only a staging run as an ordinary user cannot: its tree becomes root's when the image is made.
  if [ "$(id -u)" = 0 ]; then chown -R root:root "$fg_dest.new"; fi
  if [ -e "$fg_dest" ]; then mv "$fg_dest" "$fg_dest.old"; fi
  mv "$fg_dest.new" "$fg_dest"
  rm -rf "$fg_dest.old"
}

fg_program_remove() {
  rm -rf "$FG_ROOT$FG_PREFIX" "$FG_ROOT$FG_PREFIX.new" "$FG_ROOT$FG_PREFIX.old"
}

# Removes the command link $1 when it points into the program directory (any installer's: once the
# directory is gone it would dangle); an administrator's own command of that name stays.
fg_remove_link() {
  case "$(readlink "$FG_ROOT$1" 2>/dev/null)" in
    "$FG_PREFIX"/*) rm -f "$FG_ROOT$1" ;;
  esac
}

# First install: enable and start. Upgrade (or reinstall after a remove): restart if enabled, as
# Debian's own services do. Without a running systemd (image build, chroot) only the enablement link.
fg_service_installed() {
  if fg_systemd_running; then
    systemctl daemon-reload
    if [ "$1" = first ]; then
      # restart, not start: a service an earlier non-package install left running moves to the new files.
      if ! { systemctl enable "$FG_NAME.service" && systemctl restart "$FG_NAME.service"; }; then
        fg_say "could not start $FG_NAME; see: journalctl -u $FG_NAME"
      fi
    elif systemctl is-enabled --quiet "$FG_NAME.service"; then
      systemctl restart "$FG_NAME.service" || fg_say "restart failed; see: journalctl -u $FG_NAME"
    fi
  elif [ "$1" = first ] && [ "$FG_SYSTEMCTL" = 1 ] && ! fg_staging; then
    systemctl enable "$FG_NAME.service" >/dev/null 2>&1 || true
  fi
}

# Stops the service. The enablement link stays until purge (or `disable`), so a reinstall after a
# remove runs again as before.
fg_service_stop() {
  if fg_systemd_running; then systemctl stop "$FG_NAME.service" >/dev/null 2>&1 || true; fi
}

# `systemctl disable` also works without a running systemd; the link is removed by hand as well for
# when systemctl may not run (or the unit file is already gone, so disable cannot read [Install]).
fg_service_disable() {
  if [ "$FG_SYSTEMCTL" = 1 ] && ! fg_staging; then
    systemctl disable "$FG_NAME.service" >/dev/null 2>&1 || true
  fi
  rm -f "$FG_ROOT/etc/systemd/system/multi-user.target.wants/$FG_NAME.service"
}

# The .deb taking over from a source checkout's systemd/install.sh or the tarball: their unit in
# /etc would shadow the package's, and their /usr/local/bin link (earlier on PATH) would run the old
# launcher. Both are set aside; configuration and journal are shared and stay.
fg_adopt_earlier_install() {
  if [ -f /etc/systemd/system/fieldgate.service ]; then
    mv /etc/systemd/system/fieldgate.service /etc/systemd/system/fieldgate.service.pre-package
    fg_say "moved the unit of an earlier install to /etc/systemd/system/fieldgate.service.pre-package"
  fi
  fg_remove_link /usr/local/bin/fieldgate
}

# Deletes the configuration, the journal (unsent readings!) and the account. userdel's stderr is
# dropped for Debian's "mail spool not found" notice; a real failure is still reported.
fg_purge() {
  rm -rf "$FG_ROOT$FG_CONFIG_DIR" "$FG_ROOT$FG_STATE_DIR" "$FG_ROOT/etc/systemd/system/$FG_NAME.service.d"
  if fg_staging || getent passwd "$FG_NAME" >/dev/null 2>&1; then
    fg_host userdel "$FG_NAME" 2>/dev/null || fg_say "could not delete the user $FG_NAME (userdel failed)"
  fi
  # userdel removes the user's own group too (USERGROUPS_ENAB); this catches one it left behind.
  if fg_staging || getent group "$FG_NAME" >/dev/null 2>&1; then
    fg_host groupdel "$FG_NAME" 2>/dev/null || fg_say "could not delete the group $FG_NAME (groupdel failed)"
  fi
  fg_say "purged $FG_CONFIG_DIR, $FG_STATE_DIR (the journal), drop-ins and the $FG_NAME user"
}
