// check-elf.mjs ARCH DIR [--expect-addons N]
// Every ELF file under DIR (the bundled node and each native addon) must be built for ARCH: machine
// type from the ELF header (e_machine), word size (EI_CLASS), and for armhf the hard-float ABI flag.
// Prints one line per ELF file; exits 1 on any mismatch, or when fewer .node addons than expected.
import { closeSync, openSync, readdirSync, readSync } from 'node:fs';
import path from 'node:path';

const EXPECT = {
  amd64: { machine: 62, name: 'x86-64', bits: 64 },
  arm64: { machine: 183, name: 'AArch64', bits: 64 },
  armhf: { machine: 40, name: 'ARM (EABI5, hard float)', bits: 32, flags: 0x400 /* EF_ARM_ABI_FLOAT_HARD */ },
};
const MACHINES = { 3: 'i386', 40: 'ARM', 62: 'x86-64', 183: 'AArch64', 243: 'RISC-V' };

export function readElfHeader(file) {
  const fd = openSync(file, 'r');
  try {
    const h = Buffer.alloc(64);
    const n = readSync(fd, h, 0, 64, 0);
    if (n < 52 || h.readUInt32BE(0) !== 0x7f454c46) return undefined;
    const bits = h[4] === 2 ? 64 : 32;
    const le = h[5] === 1;
    const u16 = (o) => (le ? h.readUInt16LE(o) : h.readUInt16BE(o));
    const u32 = (o) => (le ? h.readUInt32LE(o) : h.readUInt32BE(o));
    return { bits, machine: u16(18), flags: u32(bits === 64 ? 48 : 36) };
  } finally {
    closeSync(fd);
  }
}

function* files(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) yield* files(full);
    else if (entry.isFile()) yield full;
  }
}

const [arch, dir, ...rest] = process.argv.slice(2);
const want = EXPECT[arch];
if (!want || !dir) {
  console.error('usage: check-elf.mjs amd64|arm64|armhf DIR [--expect-addons N]');
  process.exit(2);
}
const minAddons = rest[0] === '--expect-addons' ? Number(rest[1]) : 0;
let bad = 0;
let addons = 0;
for (const file of files(dir)) {
  const h = readElfHeader(file);
  if (!h) {
    if (file.endsWith('.node')) { console.log(`NOT ELF  ${path.relative(dir, file)}`); bad += 1; }
    continue;
  }
  if (file.endsWith('.node')) addons += 1;
  const ok = h.machine === want.machine && h.bits === want.bits && (want.flags === undefined || (h.flags & want.flags) !== 0);
  if (!ok) bad += 1;
  const what = `${MACHINES[h.machine] ?? `machine ${h.machine}`} ${h.bits}-bit flags=0x${h.flags.toString(16)}`;
  console.log(`${ok ? 'ok      ' : 'WRONG   '} ${path.relative(dir, file)}: ${what}`);
}
if (addons < minAddons) {
  console.log(`expected at least ${minAddons} native addons, found ${addons}`);
  bad += 1;
}
console.log(`${arch}: ${addons} native addons; ${bad === 0 ? `every ELF file is ${want.name}` : `${bad} problem(s)`}`);
process.exit(bad === 0 ? 0 : 1);
