// What an operator should check for a given connection error; logged next to the error.

/** A short hint for known error codes (mqtt.js CONNACK codes, TLS and socket errors). */
export function errorHint(err: Error): string | undefined {
  const code = (err as { code?: unknown }).code;
  if (code === 4 || code === 5 || code === 134 || code === 135) return 'check username/password or client certificate';
  // Alerts from the server (e.g. ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED) come first.
  if (typeof code === 'string' && code.startsWith('ERR_SSL')) {
    return 'TLS handshake failed: check the client certificate and key, and the TLS settings of the broker';
  }
  if (typeof code === 'string' && /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS/.test(code)) {
    return 'TLS verification failed: check the CA file and that the URL host matches the server certificate';
  }
  if (code === 'ECONNREFUSED') return 'nothing listening at this URL';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'host name does not resolve';
  return undefined;
}
