# Per-architecture facts for the release build (sourced). $1 is a Debian architecture name.
# Sets: GNU_TRIPLET (cross tool prefix and /usr/<triplet> sysroot), NODE_ARCH (node-gyp --arch,
# process.arch), QEMU (user-mode emulator for tests; empty on amd64).
arch_facts() {
  case "$1" in
    amd64) GNU_TRIPLET=x86_64-linux-gnu;    NODE_ARCH=x64;   QEMU= ;;
    arm64) GNU_TRIPLET=aarch64-linux-gnu;   NODE_ARCH=arm64; QEMU=qemu-aarch64-static ;;
    armhf) GNU_TRIPLET=arm-linux-gnueabihf; NODE_ARCH=arm;   QEMU=qemu-arm-static ;;
    *) echo "unknown architecture '$1' (amd64, arm64, armhf)" >&2; return 1 ;;
  esac
}
readonly ALL_ARCHES="amd64 arm64 armhf"
