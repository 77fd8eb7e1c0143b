#!/usr/bin/env bash
# deb-depends.sh DIR
# Prints the Debian Depends: field for the ELF files under DIR, from what they actually link: each
# DT_NEEDED library maps to its Debian 12 package, with the lowest version that provides the newest
# symbol version the files require (GLIBC_2.x -> libc6 (>= 2.x), GLIBCXX_3.4.n -> libstdc++6 (>= gcc
# release)). A library not in the table stops the build: it must be looked at, not guessed.
# (dpkg-shlibdeps cannot be used for the foreign architectures without their libc installed as
# Debian packages of that architecture, which the cross toolchain does not do.)
set -euo pipefail
dir="$1"
mapfile -t elves < <(find "$dir" -type f \( -name '*.node' -o -path '*/bin/node' \) | sort)
[[ ${#elves[@]} -gt 0 ]] || { echo "deb-depends: no ELF files under $dir" >&2; exit 1; }

declare -A pkg_of=(
  [libc.so.6]=libc6 [libm.so.6]=libc6 [libdl.so.2]=libc6 [libpthread.so.0]=libc6 [librt.so.1]=libc6
  [ld-linux-x86-64.so.2]=libc6 [ld-linux-aarch64.so.1]=libc6 [ld-linux-armhf.so.3]=libc6
  [libstdc++.so.6]=libstdc++6 [libgcc_s.so.1]=libgcc-s1 [libatomic.so.1]=libatomic1
)
# GLIBCXX_3.4.n -> first GCC release that ships it (libstdc++6's Debian version follows GCC's).
glibcxx_to_gcc() {
  local n="${1#GLIBCXX_3.4.}"
  if (( n >= 30 )); then echo 12; elif (( n >= 29 )); then echo 11; elif (( n >= 28 )); then echo 10;
  elif (( n >= 26 )); then echo 9; elif (( n >= 25 )); then echo 8; else echo 5; fi
}

declare -A needed=() glibc_min=() cxx_min=()
for f in "${elves[@]}"; do
  while read -r lib; do needed[$lib]=1; done < <(readelf -d "$f" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
  while read -r ver; do
    case "$ver" in
      GLIBC_2.*) glibc_min[$ver]=1 ;;
      GLIBCXX_3.4.*) cxx_min[$ver]=1 ;;
    esac
  done < <(readelf -V --wide "$f" | sed -n 's/.*Name: \(GLIBC_2\.[0-9.]*\|GLIBCXX_3\.4\.[0-9]*\) .*/\1/p')
done

declare -A deps=()
for lib in "${!needed[@]}"; do
  pkg="${pkg_of[$lib]:-}"
  [[ -n "$pkg" ]] || { echo "deb-depends: no Debian package known for $lib (add it to the table in $0)" >&2; exit 1; }
  deps[$pkg]=""
done
if [[ -n "${deps[libc6]+x}" ]]; then
  v="$(printf '%s\n' "${!glibc_min[@]}" | sed 's/GLIBC_//' | sort -V | tail -1)"
  [[ -n "$v" ]] && deps[libc6]=" (>= $v)"
fi
if [[ -n "${deps[libstdc++6]+x}" && ${#cxx_min[@]} -gt 0 ]]; then
  v="$(printf '%s\n' "${!cxx_min[@]}" | sort -V | tail -1)"
  deps[libstdc++6]=" (>= $(glibcxx_to_gcc "$v"))"
fi
out=()
for pkg in $(printf '%s\n' "${!deps[@]}" | sort); do out+=("$pkg${deps[$pkg]}"); done
(IFS=,; echo "${out[*]}" | sed 's/,/, /g')
