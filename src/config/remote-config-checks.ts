// remote_config: the signing key must be an Ed25519 public key the gateway can read, and the
// topic a plain topic with only {site} and {gateway} — a mistake here would otherwise surface only
// when the first candidate arrives, long after the operator left the site.
import { createPublicKey } from 'node:crypto';
import path from 'node:path';
import { compileTemplate, templateVariables, topicProblem } from '../mapping/template.js';
import { FileReadError, readBoundedFile } from '../util/read-bounded-file.js';
import { validField, type CheckContext } from './check-context.js';
import { SITE_DEFAULTS } from './defaults.js';
import { PUBLIC_KEY_MAX_BYTES } from './file-limits.js';
import type { RemoteConfigConfig } from './site-config.js';

export function checkRemoteConfig(ctx: CheckContext): void {
  const remote = validField<RemoteConfigConfig>(ctx, 'remote_config');
  if (!remote) return;
  const keyProblem = publicKeyProblem(path.resolve(ctx.dir, remote.public_key));
  if (keyProblem) ctx.report('/remote_config/public_key', 'value', `remote_config.public_key: ${keyProblem}`);
  const source = remote.topic ?? SITE_DEFAULTS.remote_config.topic;
  const unknown = templateVariables(source).filter((v) => v !== 'site' && v !== 'gateway');
  for (const name of unknown) {
    ctx.report('/remote_config/topic', 'value', `remote_config.topic: unknown template variable {${name}} (only {site} and {gateway} can be used here)`);
  }
  const site = validField<string>(ctx, 'site');
  if (unknown.length > 0 || site === undefined) return;
  const topic = compileTemplate(source).render({ site, gateway: ctx.gateway });
  const problem = topicProblem(topic) ?? (topic.startsWith('$') ? `topic "${topic}" starts with $, which brokers reserve for themselves` : undefined);
  if (problem) ctx.report('/remote_config/topic', 'value', `remote_config.topic: ${problem}`);
}

/** Why `file` is not a usable Ed25519 public key (PEM), or undefined. */
export function publicKeyProblem(file: string): string | undefined {
  let pem: Buffer;
  try {
    pem = readBoundedFile(file, PUBLIC_KEY_MAX_BYTES);
  } catch (err) {
    if (err instanceof FileReadError) return `file "${file}" ${err.detail}`;
    throw err;
  }
  try {
    const key = createPublicKey(pem);
    if (key.asymmetricKeyType !== 'ed25519') return `"${file}" is a ${key.asymmetricKeyType ?? 'non-asymmetric'} key; an Ed25519 public key is needed (fieldgate config keygen)`;
  } catch {
    return `"${file}" is not a PEM public key (fieldgate config keygen makes one)`;
  }
  return undefined;
}
