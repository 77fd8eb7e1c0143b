import { expect, it } from 'vitest';
import { redactUrl } from '../../src/uplink/redact-url.js';

it('removes credentials from broker URLs and leaves others untouched', () => {
  expect(redactUrl('mqtts://gw:s3cret@broker.example:8883')).toBe('mqtts://broker.example:8883');
  expect(redactUrl('mqtt://gw@broker.example')).toBe('mqtt://broker.example');
  expect(redactUrl('mqtt://127.0.0.1:1883')).toBe('mqtt://127.0.0.1:1883');
  expect(redactUrl('not a url with s3cret')).toBe('<invalid url>');
});
