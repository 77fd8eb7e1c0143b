// `fieldgate config …`: signing keys and candidates for remote configuration (on the operator's
// machine), and the stored versions of a gateway (on the gateway): history, diff, rollback.
import fs from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { FieldgateError } from '../util/errors.js';
import { SITE_FILE_MAX_BYTES } from '../config/file-limits.js';
import { readBoundedFile } from '../util/read-bounded-file.js';
import { generateSigningKeys, signConfig } from '../remote-config/signed-config.js';
import { VersionStore, type VersionEntry } from '../remote-config/version-store.js';
import { versionStoreDir } from '../remote-config/site-versions.js';
import { lineDiff } from '../remote-config/line-diff.js';
import { scrubSecrets, writtenSecrets } from '../config/secret-scrub.js';
import { println, type CliIo } from './io.js';

export interface ConfigCommandOptions {
  configFile: string;
  /** Store directory instead of the one derived from the site file. */
  path?: string;
  private?: string;
  public?: string;
  key?: string;
  version?: string;
  args: readonly string[];
}

const USAGE = 'usage: fieldgate config keygen --private FILE --public FILE | sign --key FILE --version V SITE.yaml | history | diff A B | rollback VERSION';

export function configCommand(sub: string | undefined, o: ConfigCommandOptions, io: CliIo): number {
  switch (sub) {
    case 'keygen':
      return keygen(o, io);
    case 'sign':
      return signCommand(o, io);
    case 'history':
      return history(o, io);
    case 'diff':
      return diff(o, io);
    case 'rollback':
      return rollback(o, io);
    default:
      println(io.stderr, `fieldgate: ${sub === undefined ? 'config needs a subcommand' : `unknown config subcommand "${sub}"`}\n${USAGE}`);
      return 64;
  }
}

function keygen(o: ConfigCommandOptions, io: CliIo): number {
  if (!o.private || !o.public) return usage(io, 'config keygen needs --private FILE and --public FILE');
  const { privateKey, publicKey } = generateSigningKeys();
  // Never overwrite a key: the fleet's gateways trust the public half of the existing one.
  writeNew(o.private, privateKey, 0o600);
  writeNew(o.public, publicKey, 0o644);
  println(io.stdout, `private key: ${o.private} (keep it off the gateways)\npublic key:  ${o.public} (remote_config.public_key on each gateway)`);
  return 0;
}

function signCommand(o: ConfigCommandOptions, io: CliIo): number {
  const file = o.args[0];
  if (!o.key || !o.version || !file) return usage(io, 'config sign needs --key FILE --version V and the site file');
  const site = readBoundedFile(file, SITE_FILE_MAX_BYTES).toString('utf8').replace(/^\uFEFF/, '');
  const key = readBoundedFile(o.key, 64 * 1024).toString('utf8');
  let message: string;
  try {
    message = signConfig(o.version, site, key);
  } catch (err) {
    if (err instanceof FieldgateError) throw err;
    throw new FieldgateError('remote_config_key', `${o.key} is not a PEM private key (${(err as Error).message})`, { cause: err });
  }
  io.stdout.write(`${message}\n`);
  return 0;
}

function history(o: ConfigCommandOptions, io: CliIo): number {
  const store = openStore(o, io);
  const { active, lastGood } = store.state;
  if (store.history().length === 0) {
    println(io.stdout, `no versions recorded in ${store.dir}`);
    return 0;
  }
  for (const e of store.history()) {
    const marks = [e.id === active ? 'active' : '', e.id === lastGood ? 'last good' : ''].filter(Boolean).join(', ');
    const reason = e.reason ? `  ${e.reason}` : '';
    println(io.stdout, `${new Date(e.at).toISOString()}  ${e.version.padEnd(20)} ${e.source.padEnd(6)} ${e.state.padEnd(11)}${marks ? ` [${marks}]` : ''}${reason}`);
  }
  return 0;
}

function diff(o: ConfigCommandOptions, io: CliIo): number {
  const [a, b] = o.args;
  if (!a || !b) return usage(io, 'config diff needs two versions');
  const store = openStore(o, io);
  const [ea, eb] = [entryOf(store, a), entryOf(store, b)];
  const [ta, tb] = [store.text(ea), store.text(eb)];
  const text = lineDiff(ta, tb, [a, b]);
  // A diff ends up in tickets and chat: the secrets either version writes are shown as ***
  // (a changed password still shows as a changed line).
  println(io.stdout, text === '' ? `${a} and ${b} are the same` : scrubSecrets(text, [...secretsIn(ta), ...secretsIn(tb)]));
  return 0;
}

function secretsIn(text: string): string[] {
  try {
    return writtenSecrets(parseYaml(text, { uniqueKeys: false }));
  } catch {
    // Not YAML any more: URL passwords are still masked by scrubSecrets.
    return [];
  }
}

function rollback(o: ConfigCommandOptions, io: CliIo): number {
  const version = o.args[0];
  if (!version) return usage(io, 'config rollback needs a version (see fieldgate config history)');
  const store = openStore(o, io);
  const entry = entryOf(store, version);
  const trial = store.state.trial;
  if (trial) {
    // The running gateway ends the trial itself and would write over a change made now.
    const on = store.byId(trial.id)?.version ?? '?';
    throw new FieldgateError('version_store', `version ${on} is on trial until ${new Date(trial.untilAt).toISOString()}; wait for its outcome (confirmed or rolled back), then roll back`);
  }
  store.activate(entry.id);
  println(io.stdout, `version ${entry.version} is now the active one; apply it with: systemctl reload fieldgate`);
  return 0;
}

function openStore(o: ConfigCommandOptions, io: CliIo): VersionStore {
  const dir = o.path ?? versionStoreDir(o.configFile, io.env);
  if (!fs.existsSync(dir)) throw new FieldgateError('version_store', `no stored versions at ${dir} (is remote_config on? name the directory with --path)`);
  return VersionStore.open(dir, { now: () => Date.now() });
}

function entryOf(store: VersionStore, version: string): VersionEntry {
  const entry = store.find(version);
  if (!entry) throw new FieldgateError('version_store', `no stored version "${version}" (see fieldgate config history)`);
  return entry;
}

function writeNew(file: string, text: string, mode: number): void {
  try {
    fs.writeFileSync(file, text, { flag: 'wx', mode });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new FieldgateError('keygen', code === 'EEXIST' ? `${file} exists; keys are never overwritten` : `${file} cannot be written (${code ?? (err as Error).message})`, { cause: err });
  }
}

function usage(io: CliIo, message: string): number {
  println(io.stderr, `fieldgate: ${message}\n${USAGE}`);
  return 64;
}
