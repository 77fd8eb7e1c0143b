#!/usr/bin/env bash
# fetch-runtime.sh ARCH DEST_DIR CACHE_DIR
# Unpacks the pinned Node runtime for ARCH (packaging/runtimes.json) into DEST_DIR: bin/node and
# include/node/ (the headers node-gyp builds the addons against). The tarball comes from the npm
# registry through `npm pack` (which also keeps it in npm's cache, so a rebuild works offline) and
# must match the pinned integrity hash.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
arch="$1" dest="$2" cache="$3"
read -r pkg version integrity < <(node -e '
  const r = require(process.argv[1])[process.argv[2]];
  if (!r) { console.error("no runtime pinned for " + process.argv[2]); process.exit(1); }
  console.log(r.package, r.version, r.integrity);' "$here/../runtimes.json" "$arch")
mkdir -p "$cache"
tgz="$cache/$pkg-$version.tgz"
if [[ ! -f "$tgz" ]]; then
  (cd "$cache" && npm pack --prefer-offline --silent "$pkg@$version" >/dev/null)
fi
actual="sha512-$(openssl dgst -sha512 -binary "$tgz" | base64 -w0)"
if [[ "$actual" != "$integrity" ]]; then
  echo "fetch-runtime: $tgz does not match the pinned integrity ($actual != $integrity)" >&2
  rm -f "$tgz"
  exit 1
fi
rm -rf "$dest"
mkdir -p "$dest"
tar xzf "$tgz" -C "$dest" --strip-components=1 package/bin/node package/include package/LICENSE
echo "$pkg@$version" > "$dest/VERSION"
