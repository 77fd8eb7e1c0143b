#!/usr/bin/env bash
# Installs (or upgrades, or removes) fieldgate as a systemd service on this machine.
#
#   sudo systemd/install.sh                 install or upgrade from this built checkout
#   sudo systemd/install.sh --uninstall     remove the service and the program; keep config and buffer
#   sudo systemd/install.sh --uninstall --purge   also delete /etc/fieldgate, the buffer and the user
#   systemd/install.sh --root /tmp/stage    install the files under a staging root (no users, no systemctl)
#
# It copies an already built tree (bin/, dist/, node_modules/ ...) rather than running `npm install`
# on the target: a gateway is often offline, and better-sqlite3 compiles from source for minutes on a
# Pi when no prebuilt binary can be fetched. Build once on the Pi (or one of the same architecture and
# Node major): `npm ci && npm run build`, then run this script; dev dependencies are pruned from the
# installed copy without network access. Running it again is safe: the program is replaced, the
# configuration and the buffer are never touched.
set -euo pipefail

readonly NAME=fieldgate
readonly INSTALL_DIR=/opt/fieldgate
readonly UNIT_PATH=/etc/systemd/system/fieldgate.service
readonly CONFIG_DIR=/etc/fieldgate
readonly STATE_DIR=/var/lib/fieldgate
readonly LINK_PATH=/usr/local/bin/fieldgate
readonly MIN_NODE_MAJOR=20
# Parts of the built tree the installed program needs (missing optional ones are skipped).
readonly PAYLOAD=(bin dist schema config docs package.json package-lock.json node_modules README.md LICENSE)

usage() {
  cat <<EOF
usage: $0 [--root DIR] [--from DIR] [--no-systemctl] [--no-prune] [--uninstall [--purge]]

  --root DIR      install under DIR instead of / (implies --no-systemctl; users and ownership are
                  only printed, not applied)
  --from DIR      built fieldgate tree to install (default: the checkout this script is in)
  --no-systemctl  do not run systemctl (daemon-reload, try-restart, disable)
  --no-prune      keep dev dependencies in the installed node_modules
  --uninstall     remove the unit, the program and the command link; keep $CONFIG_DIR and $STATE_DIR
  --purge         with --uninstall: also delete $CONFIG_DIR, $STATE_DIR (the buffer!) and the user
EOF
}

ROOT=""
FROM="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SYSTEMCTL=1
PRUNE=1
ACTION=install
PURGE=0

while [[ $# -gt 0 ]]; do
  case "$1" in
    --root) ROOT="${2:?--root needs a directory}"; shift 2 ;;
    --root=*) ROOT="${1#--root=}"; shift ;;
    --from) FROM="${2:?--from needs a directory}"; shift 2 ;;
    --from=*) FROM="${1#--from=}"; shift ;;
    --no-systemctl) SYSTEMCTL=0; shift ;;
    --no-prune) PRUNE=0; shift ;;
    --uninstall) ACTION=uninstall; shift ;;
    --purge) PURGE=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "install.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
  esac
done

if [[ $PURGE -eq 1 && $ACTION != uninstall ]]; then
  echo "install.sh: --purge only goes with --uninstall" >&2
  exit 2
fi

if [[ -n "$ROOT" ]]; then
  mkdir -p "$ROOT"
  ROOT="$(cd "$ROOT" && pwd)"
  if [[ "$ROOT" == / ]]; then ROOT=""; fi
fi
# A staging root is not a running system: never touch the host's users or service manager for it.
STAGING=0
if [[ -n "$ROOT" ]]; then
  STAGING=1
  SYSTEMCTL=0
fi

if [[ $STAGING -eq 0 && $EUID -ne 0 ]]; then
  echo "install.sh: run as root (or use --root DIR to stage files)" >&2
  exit 1
fi

say() { printf '%s\n' "$*"; }
# Host-level changes (accounts, ownership, systemctl): applied on a real install, printed when staging.
host() {
  if [[ $STAGING -eq 1 ]]; then
    say "  (staging) would run: $*"
  else
    "$@"
  fi
}

group_exists() { getent group "$1" >/dev/null 2>&1; }

ensure_user() {
  if [[ $STAGING -eq 0 ]] && getent passwd "$NAME" >/dev/null 2>&1; then
    say "user $NAME exists"
  else
    # No home directory is created: StateDirectory= makes $STATE_DIR, owned by the user, at start.
    host useradd --system --user-group --home-dir "$STATE_DIR" --no-create-home \
      --shell /usr/sbin/nologin --comment "fieldgate IoT gateway" "$NAME"
  fi
  local g
  for g in dialout bluetooth; do
    if ! group_exists "$g"; then
      # systemd refuses to start a unit whose SupplementaryGroups= names a missing group
      # (status 216/GROUP); an empty system group costs nothing and BlueZ installed later uses it.
      host groupadd --system "$g"
      say "created system group $g"
    fi
    # Serial adapters are root:dialout 0660; BlueZ's D-Bus policy admits the bluetooth group.
    host usermod --append --groups "$g" "$NAME"
  done
  # systemd creates StateDirectory= at start; making it now as well lets an operator run
  # `fieldgate buffer …` (and the daemon outside systemd) as the service user straight away.
  host install -d -o "$NAME" -g "$NAME" -m 0750 "$STATE_DIR"
}

check_node() {
  local node major
  if ! node="$(command -v node)"; then
    say "warning: node is not on PATH; fieldgate needs Node.js >= $MIN_NODE_MAJOR at /usr/bin/node or /usr/local/bin/node" >&2
    return
  fi
  major="$("$node" -p 'process.versions.node.split(".")[0]')"
  if (( major < MIN_NODE_MAJOR )); then
    echo "install.sh: $node is Node.js $major; fieldgate needs >= $MIN_NODE_MAJOR" >&2
    exit 1
  fi
  case "$(dirname "$node")" in
    /usr/local/sbin|/usr/local/bin|/usr/sbin|/usr/bin|/sbin|/bin) ;;
    *) say "warning: $node is not on systemd's default PATH; the unit starts 'node' through /usr/bin/env." \
         "Link it: ln -s $node /usr/local/bin/node" >&2 ;;
  esac
}

check_source() {
  local missing=()
  [[ -f "$FROM/package.json" ]] || missing+=(package.json)
  [[ -f "$FROM/bin/fieldgate.js" ]] || missing+=(bin/fieldgate.js)
  [[ -f "$FROM/dist/src/main.js" ]] || missing+=("dist/src/main.js (run: npm run build)")
  [[ -d "$FROM/node_modules" ]] || missing+=("node_modules (run: npm ci)")
  [[ -f "$FROM/config/example.yaml" ]] || missing+=(config/example.yaml)
  [[ -f "$FROM/systemd/fieldgate.service" ]] || missing+=(systemd/fieldgate.service)
  if [[ ${#missing[@]} -gt 0 ]]; then
    echo "install.sh: $FROM is not a built fieldgate tree; missing:" >&2
    printf '  %s\n' "${missing[@]}" >&2
    exit 1
  fi
}

install_program() {
  local dest="$ROOT$INSTALL_DIR" stage="$ROOT$INSTALL_DIR.new" old="$ROOT$INSTALL_DIR.old" item
  rm -rf "$stage" "$old"
  mkdir -p "$stage"
  for item in "${PAYLOAD[@]}"; do
    if [[ -e "$FROM/$item" ]]; then cp -a "$FROM/$item" "$stage/"; fi
  done
  if [[ $PRUNE -eq 1 ]]; then
    if command -v npm >/dev/null 2>&1 && [[ -f "$stage/package-lock.json" ]]; then
      say "removing dev dependencies from the installed copy (offline)"
      (cd "$stage" && npm prune --omit=dev --offline --no-audit --no-fund --ignore-scripts --loglevel=error >/dev/null)
      find "$stage/node_modules" -mindepth 1 -maxdepth 1 -type d -empty -delete
    else
      say "note: npm or package-lock.json missing; dev dependencies (if any) stay installed"
    fi
  fi
  chmod 0755 "$stage/bin/fieldgate.js"
  # The program is root's: the service (and anything that subverts it) cannot rewrite its own code.
  chmod -R go-w "$stage"
  if [[ $EUID -eq 0 ]]; then chown -R root:root "$stage"; fi
  # Swap directories so a failed copy never leaves half a program behind.
  if [[ -e "$dest" ]]; then mv "$dest" "$old"; fi
  mv "$stage" "$dest"
  rm -rf "$old"
  mkdir -p "$(dirname "$ROOT$LINK_PATH")"
  ln -sfn "$INSTALL_DIR/bin/fieldgate.js" "$ROOT$LINK_PATH"
  say "installed program in $dest (command: $LINK_PATH)"
}

install_unit() {
  install -D -m 0644 "$FROM/systemd/fieldgate.service" "$ROOT$UNIT_PATH"
  say "installed unit $ROOT$UNIT_PATH"
}

# Files the service reads but must not write: root-owned, group fieldgate, no access for others.
own_config() {
  host chown "root:$NAME" "$1"
}

install_config() {
  local dir="$ROOT$CONFIG_DIR"
  install -d -m 0750 "$dir"
  own_config "$dir"
  if [[ -e "$dir/config.yaml" ]]; then
    say "kept existing $CONFIG_DIR/config.yaml (the new example is $INSTALL_DIR/config/example.yaml)"
  else
    install -m 0640 "$FROM/config/example.yaml" "$dir/config.yaml"
    own_config "$dir/config.yaml"
    say "wrote $CONFIG_DIR/config.yaml from config/example.yaml; edit it for this site"
  fi
  if [[ -e "$dir/env" ]]; then
    say "kept existing $CONFIG_DIR/env"
  else
    (umask 0027 && cat >"$dir/env" <<'EOF'
# Environment for fieldgate.service (systemd EnvironmentFile=): secrets referenced as ${VAR} in
# config.yaml, e.g.
#   MQTT_PASSWORD=change-me
# Keep this file mode 0640 root:fieldgate. After editing: systemctl restart fieldgate
EOF
    )
    chmod 0640 "$dir/env"
    own_config "$dir/env"
    say "wrote $CONFIG_DIR/env for secrets"
  fi
}

do_install() {
  check_source
  check_node
  ensure_user
  install_program
  install_unit
  install_config
  if [[ $SYSTEMCTL -eq 1 ]]; then
    systemctl daemon-reload
    if systemctl is-active --quiet "$NAME.service"; then
      say "restarting the running service on the new version"
      systemctl try-restart "$NAME.service"
    fi
  else
    say "skipped: systemctl daemon-reload"
  fi
  cat <<EOF

Next steps:
  1. Edit $CONFIG_DIR/config.yaml (secrets go to $CONFIG_DIR/env or a password_file).
  2. Check it as the service will see it:
       sudo -u $NAME sh -c 'set -a; . $CONFIG_DIR/env; exec $LINK_PATH validate -c $CONFIG_DIR/config.yaml'
  3. Start it:      systemctl enable --now $NAME
  4. Watch it:      journalctl -u $NAME -f
See $INSTALL_DIR/docs/operations.md for upgrades, backups and recovery.
EOF
}

do_uninstall() {
  if [[ $SYSTEMCTL -eq 1 ]]; then
    systemctl disable --now "$NAME.service" 2>/dev/null || true
  fi
  rm -f "$ROOT$UNIT_PATH"
  rm -rf "$ROOT$INSTALL_DIR" "$ROOT$INSTALL_DIR.new" "$ROOT$INSTALL_DIR.old"
  # Only our own link: an admin may have put something else there.
  if [[ -L "$ROOT$LINK_PATH" && "$(readlink "$ROOT$LINK_PATH")" == "$INSTALL_DIR/bin/fieldgate.js" ]]; then
    rm -f "$ROOT$LINK_PATH"
  fi
  say "removed the unit, $INSTALL_DIR and $LINK_PATH"
  if [[ $PURGE -eq 1 ]]; then
    rm -rf "$ROOT$CONFIG_DIR" "$ROOT$STATE_DIR" "$ROOT/etc/systemd/system/$NAME.service.d"
    say "purged $CONFIG_DIR, $STATE_DIR (buffer) and unit drop-ins"
    if [[ $STAGING -eq 1 ]] || getent passwd "$NAME" >/dev/null 2>&1; then
      host userdel "$NAME"
    fi
  else
    say "kept $CONFIG_DIR (configuration, secrets) and $STATE_DIR (the buffer: unsent readings)"
    say "delete them with: $0 --uninstall --purge"
  fi
  if [[ $SYSTEMCTL -eq 1 ]]; then systemctl daemon-reload; fi
}

case "$ACTION" in
  install) do_install ;;
  uninstall) do_uninstall ;;
esac
