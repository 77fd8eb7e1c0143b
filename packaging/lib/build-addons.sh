#!/usr/bin/env bash
# build-addons.sh ARCH NODE_MODULES RUNTIME_DIR CACHE_DIR
# Compiles every native addon (every package with a binding.gyp) in NODE_MODULES for ARCH, against
# the headers of the bundled runtime in RUNTIME_DIR, with Debian's cross compilers. Nothing
# prebuilt is used: prebuilds/ folders are deleted, and the build products are cached per
# (arch, runtime, addon version, compiler) in CACHE_DIR so that a second release build is quick.
# Only build/Release/*.node is kept (no objects, no test extension, no C sources).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/arch.sh"
arch="$1" modules="$(cd "$2" && pwd)" runtime="$(cd "$3" && pwd)" cache="$4"
arch_facts "$arch"

repo="$(cd "$here/../.." && pwd)"
gyp="${NODE_GYP:-$repo/node_modules/.bin/node-gyp}"
[[ -x "$gyp" ]] || { echo "build-addons: node-gyp not found at $gyp (npm ci in the checkout first)" >&2; exit 1; }
# The checkout's node-gyp (>= 12, see the override in package.json), never the old one usocket pins.
major="$("$gyp" --version | sed -E 's/^v?([0-9]+).*/\1/')"
(( major >= 12 )) || { echo "build-addons: node-gyp $major is too old (need >= 12)" >&2; exit 1; }

export CC="$GNU_TRIPLET-gcc" CXX="$GNU_TRIPLET-g++" LINK="$GNU_TRIPLET-g++" AR="$GNU_TRIPLET-ar"
# gyp builds host tools (none here) with these; keep them native.
export CC_host=gcc CXX_host=g++ LINK_host=g++
command -v "$CXX" >/dev/null || { echo "build-addons: $CXX missing (apt-get install g++-$GNU_TRIPLET)" >&2; exit 1; }
compiler="$("$CXX" -dumpfullversion)"
runtime_version="$(cat "$runtime/VERSION")"
jobs="${RELEASE_JOBS:-2}"

mapfile -t gypfiles < <(find "$modules" -name binding.gyp -not -path '*/node-gyp/*' -not -path '*/test/*' | sort)
for gypfile in "${gypfiles[@]}"; do
  dir="$(dirname "$gypfile")"
  name="$(node -p 'require(process.argv[1]).name' "$dir/package.json")"
  version="$(node -p 'require(process.argv[1]).version' "$dir/package.json")"
  key="$cache/$arch/${name//\//+}@$version-$runtime_version-gcc$compiler"
  rm -rf "$dir/prebuilds" "$dir/build"
  if [[ ! -d "$key" ]]; then
    echo "  building $name@$version for $arch ($CXX $compiler)"
    log="$(mktemp)"
    if ! (cd "$dir" && nice "$gyp" rebuild --release --arch="$NODE_ARCH" --nodedir="$runtime" --jobs="$jobs" >"$log" 2>&1); then
      tail -40 "$log" >&2
      echo "build-addons: $name failed for $arch (full log $log)" >&2
      exit 1
    fi
    rm -f "$log"
    mkdir -p "$key.tmp"
    find "$dir/build/Release" -maxdepth 1 -name '*.node' -not -name 'test_extension.node' -exec cp {} "$key.tmp/" \;
    "$GNU_TRIPLET-strip" --strip-unneeded "$key.tmp"/*.node
    mv "$key.tmp" "$key"
  else
    echo "  $name@$version for $arch: cached"
  fi
  rm -rf "$dir/build"
  mkdir -p "$dir/build/Release"
  cp "$key"/*.node "$dir/build/Release/"
done
