// The one answer to "does this key name hold a secret?", for every place that hides values by the
// name of their key: site-file error messages and their scrubbing, ${VAR} values registered with
// the log redactor, and the log lines themselves (keys of logged objects).
//
// A name is read as words: split at `_` and `-`, and at camelCase humps for keys of logged
// objects (`apiKey`). What counts is the last word, so `password_file` and `token_file` (file
// paths) are not secrets while `password`, `mqtt_password` and `access_token` are.

/** Last words that always name a secret. */
const SECRET_WORDS: ReadonlySet<string> = new Set([
  'password', 'passwd', 'passphrase', 'passkey', 'secret', 'token', 'psk', 'apikey', 'bindkey', 'authorization',
]);

/**
 * True when a value under this key is a secret: password, passwd, passphrase, passkey, secret,
 * token, psk, apikey, bindkey, authorization, and `key` with a word before it (api_key,
 * private_key, encryption_key) — but not `key` alone nor `public_key`: in the site file those are
 * file paths (mqtt.tls.key, remote_config.public_key), and a public key is not a secret. A driver
 * field that holds key material says so in its name (`bindkey`, `encryption_key`).
 */
export function isSecretKey(name: string): boolean {
  // The last segment whole as well as its last hump: `passWord` is as much a password as `password`.
  const segment = name.split(/[_-]+/).filter((w) => w !== '').at(-1)?.toLowerCase();
  if (segment !== undefined && SECRET_WORDS.has(segment)) return true;
  const words = name.split(/[_-]+|(?<=[a-z0-9])(?=[A-Z])/).filter((w) => w !== '').map((w) => w.toLowerCase());
  const last = words.at(-1);
  if (last === undefined) return false;
  if (SECRET_WORDS.has(last)) return true;
  return last === 'key' && words.length > 1 && words.at(-2) !== 'public';
}
