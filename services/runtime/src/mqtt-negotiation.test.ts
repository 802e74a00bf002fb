/**
 * When a failed MQTT 5 attempt means "this broker speaks 3.1.1 only", and when it
 * means a TLS failure that no protocol version would get past.
 */
import { describe, expect, it } from 'vitest';
import { isTlsFailure, shouldFallBackToV311 } from './mqtt-negotiation.ts';

describe('MQTT 5 → 3.1.1 negotiation', () => {
  it('falls back on a version refusal, or a transport closed without CONNACK', () => {
    const a = { transportUp: false, connack: false, refusedVersion: false };
    expect(shouldFallBackToV311(a)).toBe(false); // TCP or TLS never came up
    expect(shouldFallBackToV311({ ...a, transportUp: true })).toBe(true);
    expect(shouldFallBackToV311({ ...a, transportUp: true, connack: true })).toBe(false);
    expect(shouldFallBackToV311({ ...a, connack: true, refusedVersion: true })).toBe(true);
  });

  it.each([
    ['ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED', true], // broker wants a client certificate
    ['ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE', true],
    ['ERR_TLS_CERT_ALTNAME_INVALID', true], // host name not in the certificate
    ['UNABLE_TO_VERIFY_LEAF_SIGNATURE', true], // CA unknown
    ['SELF_SIGNED_CERT_IN_CHAIN', true],
    ['DEPTH_ZERO_SELF_SIGNED_CERT', true],
    ['CERT_HAS_EXPIRED', true],
    ['ECONNREFUSED', false],
    ['ECONNRESET', false],
    [5, false], // CONNACK 0x05 not authorized
    [undefined, false],
  ])('%s is a TLS failure: %s', (code, tls) => {
    expect(isTlsFailure(code)).toBe(tls);
  });
});
