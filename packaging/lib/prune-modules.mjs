// prune-modules.mjs NODE_MODULES_PARENT
// After the addons are built, keeps only what the program loads at run time: the packages reachable
// from the root's dependencies, not following edges into build-only packages (node-gyp, the
// prebuild downloader, addon headers, type declarations), and drops files no running program reads
// (C/C++ sources, TypeScript sources and declarations, which Node 20 cannot run, source maps,
// tests, docs). Resolution follows Node's rule: a dependency is found in the nearest node_modules
// walking up from the dependent package.
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';

const BUILD_ONLY = new Set(['node-gyp', 'prebuild-install', 'nan', 'node-addon-api', 'node-gyp-build-optional-packages']);
const isBuildOnly = (name) => BUILD_ONLY.has(name) || name.startsWith('@types/');

const root = path.resolve(process.argv[2] ?? '.');
const readPkg = (dir) => JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8'));

function resolveDep(fromDir, name) {
  for (let dir = fromDir; dir.startsWith(root); dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'node_modules', name);
    if (existsSync(path.join(candidate, 'package.json'))) return candidate;
    if (dir === root) break;
  }
  return undefined;
}

const keep = new Set();
const queue = [root];
while (queue.length > 0) {
  const dir = queue.shift();
  const pkg = readPkg(dir);
  const names = [
    ...Object.keys(pkg.dependencies ?? {}),
    ...Object.keys(pkg.optionalDependencies ?? {}),
    ...Object.keys(pkg.peerDependencies ?? {}),
  ];
  for (const name of names) {
    if (isBuildOnly(name)) continue;
    const found = resolveDep(dir, name);
    if (found === undefined) {
      if (pkg.dependencies?.[name] !== undefined && dir === root) throw new Error(`dependency ${name} is not installed`);
      continue; // optional or peer dependency not installed
    }
    if (!keep.has(found)) { keep.add(found); queue.push(found); }
  }
}

/** Every package directory under a node_modules folder (scoped ones included), nested ones too. */
function packagesUnder(topModules) {
  const out = [];
  const pending = [topModules];
  while (pending.length > 0) {
    const modules = pending.pop();
    if (!existsSync(modules)) continue;
    for (const entry of readdirSync(modules)) {
      if (entry.startsWith('.')) continue;
      const full = path.join(modules, entry);
      const dirs = entry.startsWith('@') ? readdirSync(full).map((sub) => path.join(full, sub)) : [full];
      for (const dir of dirs) {
        if (!statSync(dir).isDirectory()) continue;
        out.push(dir);
        pending.push(path.join(dir, 'node_modules'));
      }
    }
  }
  return out;
}

let removed = 0;
for (const dir of packagesUnder(path.join(root, 'node_modules')).sort().reverse()) {
  if (!keep.has(dir) && existsSync(dir)) { rmSync(dir, { recursive: true, force: true }); removed += 1; }
}
for (const entry of readdirSync(path.join(root, 'node_modules'))) {
  const full = path.join(root, 'node_modules', entry);
  if (entry.startsWith('@') && readdirSync(full).length === 0) rmSync(full, { recursive: true });
}
rmSync(path.join(root, 'node_modules/.package-lock.json'), { force: true });
rmSync(path.join(root, 'node_modules/.bin'), { recursive: true, force: true });

// Files nobody loads at run time.
const JUNK_FILE = /(\.[cm]?ts|\.map|\.md|\.markdown|\.c|\.cc|\.cpp|\.h|\.hpp|\.gyp|\.gypi|\.o|\.a|\.tsbuildinfo|\.npmignore|\.editorconfig|\.eslintrc(\.json)?)$/i;
const JUNK_DIR = new Set(['test', 'tests', '__tests__', 'docs', 'doc', 'example', 'examples', 'benchmark', 'benchmarks', '.github', 'prebuilds']);
let junk = 0;
const hasJs = (dir) => readdirSync(dir, { recursive: true }).some((f) => /\.[cm]?js$/.test(String(f)));

function sweepPackage(pkgDir) {
  // A built addon's C/C++ sources (src/, deps/ with the SQLite amalgamation) are only build input.
  if (existsSync(path.join(pkgDir, 'build/Release'))) {
    for (const folder of ['src', 'deps']) {
      const full = path.join(pkgDir, folder);
      if (existsSync(full) && !hasJs(full)) { rmSync(full, { recursive: true }); junk += 1; }
    }
  }
  for (const entry of readdirSync(pkgDir, { withFileTypes: true })) {
    if (entry.isDirectory() && JUNK_DIR.has(entry.name)) { rmSync(path.join(pkgDir, entry.name), { recursive: true }); junk += 1; }
  }
  sweepFiles(pkgDir);
}
function sweepFiles(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) { if (entry.name !== 'node_modules') sweepFiles(full); }
    else if (JUNK_FILE.test(entry.name) && !/^licen[cs]e/i.test(entry.name)) { rmSync(full); junk += 1; }
  }
}
for (const dir of packagesUnder(path.join(root, 'node_modules'))) if (existsSync(dir)) sweepPackage(dir);
console.log(`  pruned ${removed} build-only or unreachable packages and ${junk} files/folders; kept ${keep.size} packages`);
