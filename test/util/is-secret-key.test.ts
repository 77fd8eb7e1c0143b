// The one definition of secret key names that site-file errors, ${VAR} secrets and the logger share.
import { describe, expect, it } from 'vitest';
import { isSecretKey } from '../../src/util/is-secret-key.js';

describe('isSecretKey', () => {
  it.each([
    'password', 'Password', 'PASSWORD', 'mqtt_password', 'passWord', 'passwd',
    'passphrase', 'wifi_passphrase', 'passkey',
    'secret', 'api_secret', 'client_secret',
    'token', 'access_token', 'accessToken',
    'psk', 'wpa_psk',
    'api_key', 'apikey', 'apiKey', 'private_key', 'privateKey', 'encryption_key', 'aes-key', 'network_key',
    'bindkey', 'ble_bindkey',
    'authorization',
  ])('%s names a secret', (name) => {
    expect(isSecretKey(name)).toBe(true);
  });

  it.each([
    // File paths: mqtt.tls.key, remote_config.public_key, password_file, token_file.
    'key', 'public_key', 'publicKey', 'password_file', 'token_file', 'key_file',
    // Ordinary keys that merely contain a secret word.
    'keepalive', 'keys', 'tokens', 'max_tokens', 'secretary', 'passwords_allowed', 'monkey', 'turnkey',
    'username', 'address', 'field', 'name', '', '_', '0',
  ])('%s does not', (name) => {
    expect(isSecretKey(name)).toBe(false);
  });
});
