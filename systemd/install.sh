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

# The steps every installer shares (account, configuration, program swap, service stop/disable,
# purge) live in the release packages' setup-functions.sh, found next to this script whatever the
# current directory: one implementation of each. They provide FG_NAME, FG_CONFIG_DIR, FG_STATE_DIR.
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SETUP_FUNCTIONS="$HERE/../packaging/files/setup-functions.sh"
if [[ ! -f "$SETUP_FUNCTIONS" ]]; then
  echo "install.sh: $SETUP_FUNCTIONS is missing; run this script from a complete fieldgate checkout" >&2
  exit 1
fi
# shellcheck source=SCRIPTDIR/../packaging/files/setup-functions.sh
. "$SETUP_FUNCTIONS"

readonly INSTALL_DIR=/opt/fieldgate
readonly UNIT_PATH=/etc/systemd/system/fieldgate.service
readonly LINK_PATH=/usr/local/bin/fieldgate
readonly MIN_NODE_MAJOR=20
# Parts of the built tree the installed program needs (missing optional ones are skipped).
readonly PAYLOAD=(bin dist schema profiles web config docs package.json package-lock.json node_modules README.md LICENSE)
FG_PREFIX=$INSTALL_DIR

usage() {
  cat <<EOF
usage: $0 [--root DIR] [--from DIR] [--no-systemctl] [--no-prune] [--uninstall [--purge]]

  --root DIR      install under DIR instead of / (implies --no-systemctl; users and ownership are
                  only printed, not applied)
  --from DIR      built fieldgate tree to install (default: the checkout this script is in)
  --no-systemctl  do not run systemctl (daemon-reload, try-restart, disable)
  --no-prune      keep dev dependencies in the installed node_modules
  --uninstall     remove the unit, the program and the command link; keep $FG_CONFIG_DIR and $FG_STATE_DIR
  --purge         with --uninstall: also delete $FG_CONFIG_DIR, $FG_STATE_DIR (the buffer!) and the user
EOF
}

ROOT=""
FROM="$(cd "$HERE/.." && pwd)"
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
FG_ROOT=$ROOT
FG_SYSTEMCTL=$SYSTEMCTL
fg_check_not_packaged || exit 1

check_node() {
  local node major
  if ! node="$(command -v node)"; then
    fg_say "warning: node is not on PATH; fieldgate needs Node.js >= $MIN_NODE_MAJOR at /usr/bin/node or /usr/local/bin/node" >&2
    return
  fi
  major="$("$node" -p 'process.versions.node.split(".")[0]')"
  if (( major < MIN_NODE_MAJOR )); then
    echo "install.sh: $node is Node.js $major; fieldgate needs >= $MIN_NODE_MAJOR" >&2
    exit 1
  fi
  case "$(dirname "$node")" in
    /usr/local/sbin|/usr/local/bin|/usr/sbin|/usr/bin|/sbin|/bin) ;;
    *) fg_say "warning: $node is not on systemd's default PATH; the unit starts 'node' through /usr/bin/env." \
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

# Unlike the packages (which bundle a runtime and ship only production modules), the tree is a
# developer's build: its node_modules holds dev dependencies, pruned from the copy without network.
install_program() {
  local stage="$ROOT$INSTALL_DIR.new" item
  fg_program_stage
  for item in "${PAYLOAD[@]}"; do
    if [[ -e "$FROM/$item" ]]; then cp -a "$FROM/$item" "$stage/"; fi
  done
  if [[ $PRUNE -eq 1 ]]; then
    if command -v npm >/dev/null 2>&1 && [[ -f "$stage/package-lock.json" ]]; then
      fg_say "removing dev dependencies from the installed copy (offline)"
      (cd "$stage" && npm prune --omit=dev --offline --no-audit --no-fund --ignore-scripts --loglevel=error >/dev/null)
      find "$stage/node_modules" -mindepth 1 -maxdepth 1 -type d -empty -delete
    else
      fg_say "note: npm or package-lock.json missing; dev dependencies (if any) stay installed"
    fi
  fi
  chmod 0755 "$stage/bin/fieldgate.js"
  fg_program_commit
  mkdir -p "$(dirname "$ROOT$LINK_PATH")"
  # bin/fieldgate.js on the system's node (the unit's ExecStart too); the packages link their
  # launcher bin/fieldgate, which runs the bundled runtime instead.
  ln -sfn "$INSTALL_DIR/bin/fieldgate.js" "$ROOT$LINK_PATH"
  fg_say "installed program in $ROOT$INSTALL_DIR (command: $LINK_PATH)"
}

install_unit() {
  install -D -m 0644 "$FROM/systemd/fieldgate.service" "$ROOT$UNIT_PATH"
  fg_say "installed unit $ROOT$UNIT_PATH"
}

do_install() {
  check_source
  check_node
  fg_ensure_user
  install_program
  install_unit
  fg_install_config
  # Deliberately not fg_service_installed (the packages' enable-and-start on first install): a
  # source install is run by someone at the console who edits and validates the site file first
  # (next steps below); only a service already running is moved to the new version.
  if fg_systemd_running; then
    systemctl daemon-reload
    if systemctl is-active --quiet "$FG_NAME.service"; then
      fg_say "restarting the running service on the new version"
      systemctl try-restart "$FG_NAME.service"
    fi
  elif [[ $SYSTEMCTL -eq 1 ]]; then
    fg_say "systemd is not running here; skipped: systemctl daemon-reload"
  else
    fg_say "skipped: systemctl daemon-reload"
  fi
  cat <<EOF

Next steps:
  1. Edit $FG_CONFIG_DIR/config.yaml (secrets go to $FG_CONFIG_DIR/env or a password_file).
  2. Check it as the service will see it:
       runuser -u $FG_NAME -- sh -c 'set -a; . $FG_CONFIG_DIR/env; exec $LINK_PATH validate -c $FG_CONFIG_DIR/config.yaml'
  3. Start it:      systemctl enable --now $FG_NAME
  4. Watch it:      journalctl -u $FG_NAME -f
See $INSTALL_DIR/docs/operations.md for upgrades, backups and recovery.
EOF
}

do_uninstall() {
  fg_service_stop
  fg_service_disable
  rm -f "$ROOT$UNIT_PATH"
  fg_program_remove
  fg_remove_link "$LINK_PATH"
  fg_say "removed the unit, $INSTALL_DIR and $LINK_PATH"
  if [[ $PURGE -eq 1 ]]; then
    fg_purge
  else
    fg_say "kept $FG_CONFIG_DIR (configuration, secrets) and $FG_STATE_DIR (the buffer: unsent readings)"
    fg_say "delete them with: $0 --uninstall --purge"
  fi
  if fg_systemd_running; then systemctl daemon-reload; fi
}

case "$ACTION" in
  install) do_install ;;
  uninstall) do_uninstall ;;
esac
