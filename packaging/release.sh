#!/usr/bin/env bash
# npm run release [-- --arch amd64,arm64,armhf] [--version V] [--out DIR]
#
# Builds, on this x86-64 Debian machine, for each architecture:
#   fieldgate_<version>_<arch>.deb           Debian package (dpkg-deb), program in /opt/fieldgate
#   fieldgate-<version>-linux-<arch>.tar.gz  the same tree plus install.sh, for systems without dpkg
# Each holds a pinned Node 20 runtime of that architecture (runtimes.json, from the npm registry),
# the compiled program, the production node_modules, and every native addon compiled for the target
# with Debian's cross compilers against that runtime's headers. Network: the npm registry only
# (npm ci, npm pack); the second run is offline (npm's cache, addon cache in release/cache).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
source "$here/lib/arch.sh"

arches="$ALL_ARCHES"
version="$(node -p 'require(process.argv[1]).version' "$repo/package.json")"
out="$repo/release"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --arch) arches="${2//,/ }"; shift 2 ;;
    --version) version="$2"; shift 2 ;;
    --out) out="$(mkdir -p "$2" && cd "$2" && pwd)"; shift 2 ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) echo "release.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
work="$out/work" cache="$out/cache"
mkdir -p "$work" "$cache"
started=$SECONDS
step() { printf '\n== %s (%ss)\n' "$*" "$((SECONDS - started))"; }

missing=()
for tool in dpkg-deb readelf x86_64-linux-gnu-g++ aarch64-linux-gnu-g++ arm-linux-gnueabihf-g++ make python3; do
  command -v "$tool" >/dev/null || missing+=("$tool")
done
if [[ ${#missing[@]} -gt 0 ]]; then
  echo "release.sh: missing ${missing[*]}; install the packages listed in README.md, \"Building the release packages\"" >&2
  exit 1
fi

step "compiling the program"
rm -rf "$work/common"
mkdir -p "$work/common"
common="$work/common"
(cd "$repo" && node_modules/.bin/tsc -p tsconfig.build.json --outDir "$work/tsc" --sourceMap false)
mkdir -p "$common/dist" "$common/bin" "$common/systemd" "$common/share" "$common/config"
cp -a "$work/tsc/src" "$work/tsc/drivers" "$common/dist/"
rm -rf "$work/tsc"
cp "$repo/bin/fieldgate.js" "$common/bin/"
cp "$here/files/fieldgate" "$common/bin/fieldgate"
cp -a "$repo/schema" "$repo/profiles" "$repo/web" "$repo/docs" "$repo/README.md" "$repo/LICENSE" "$common/"
cp "$repo/config/example.yaml" "$repo/config/demo.yaml" "$common/config/"
cp "$here/files/setup-functions.sh" "$common/share/"
# The unit starts the launcher (bundled runtime), not bin/fieldgate.js through the system's node.
sed 's#^ExecStart=/opt/fieldgate/bin/fieldgate.js #ExecStart=/opt/fieldgate/bin/fieldgate #' \
  "$repo/systemd/fieldgate.service" > "$common/systemd/fieldgate.service"
grep -q '^ExecStart=/opt/fieldgate/bin/fieldgate run' "$common/systemd/fieldgate.service" \
  || { echo "release.sh: could not point the unit's ExecStart at the launcher" >&2; exit 1; }
node -e '
  const [src, dst, version] = process.argv.slice(1);
  const p = require(src);
  const keep = { name: p.name, version, description: p.description, license: p.license, type: p.type,
    engines: p.engines, bin: { fieldgate: "bin/fieldgate" }, dependencies: p.dependencies, overrides: p.overrides };
  require("fs").writeFileSync(dst, JSON.stringify(keep, null, 2) + "\n");' \
  "$repo/package.json" "$common/package.json" "$version"
echo "$version" > "$common/VERSION"

step "production node_modules (npm ci --omit=dev --ignore-scripts)"
modules="$work/modules"
rm -rf "$modules"
mkdir -p "$modules"
cp "$repo/package.json" "$repo/package-lock.json" "$modules/"
(cd "$modules" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund --prefer-offline --loglevel=error)

for arch in $arches; do
  arch_facts "$arch"
  tree="$work/$arch/fieldgate"
  step "$arch: runtime, native addons, package tree"
  rm -rf "$work/$arch"
  mkdir -p "$work/$arch"
  runtime="$cache/runtime-$arch"
  if [[ ! -x "$runtime/bin/node" ]]; then "$here/lib/fetch-runtime.sh" "$arch" "$runtime" "$cache/npm-pack"; fi
  cp -a "$common" "$tree"
  cp -a "$modules" "$work/$arch/modules"
  "$here/lib/build-addons.sh" "$arch" "$work/$arch/modules/node_modules" "$runtime" "$cache/addons"
  node "$here/lib/prune-modules.mjs" "$work/$arch/modules"
  mv "$work/$arch/modules/node_modules" "$tree/node_modules"
  rm -rf "$work/$arch/modules"
  mkdir -p "$tree/node/bin"
  # Debug sections are only for a debugger; the symbol table (stack traces in perf, gdb) stays.
  "$GNU_TRIPLET-strip" --strip-debug -o "$tree/node/bin/node" "$runtime/bin/node"
  cp "$runtime/LICENSE" "$tree/node/LICENSE"
  cp "$runtime/VERSION" "$tree/node/VERSION"
  node "$here/lib/check-elf.mjs" "$arch" "$tree" --expect-addons 4 | grep -v '^ok ' || true
  node "$here/lib/check-elf.mjs" "$arch" "$tree" --expect-addons 4 >/dev/null

  step "$arch: tarball and .deb"
  "$here/lib/make-tarball.sh" "$tree" "$version" "$arch" "$out"
  "$here/lib/make-deb.sh" "$tree" "$version" "$arch" "$out"
done
step "done"
(cd "$out" && ls -l --block-size=K fieldgate[-_]"$version"[-_]*)
