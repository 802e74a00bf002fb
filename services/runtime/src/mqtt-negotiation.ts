/**
 * The pure parts of `connectMqtt`: how long to wait before reconnecting, and whether a
 * failed MQTT 5 attempt means "this broker does not speak MQTT 5".
 */

export interface ReconnectBackoff {
  /** Delay before the first reconnect after a loss, ms (default 1000). */
  initialMs: number;
  /** Cap, ms (default 15 000). */
  maxMs: number;
}

export const DEFAULT_RECONNECT: ReconnectBackoff = { initialMs: 1000, maxMs: 15_000 };

/**
 * Delay before reconnect attempt `failures` (0 for the first attempt after a loss):
 * exponential, capped, with "equal jitter" (a uniform draw in [½·d, d]) so a fleet of
 * sessions that lost the same broker does not come back in lock step. Never below
 * 1 ms (mqtt.js reads a reconnectPeriod of 0 as "never reconnect").
 */
export function reconnectDelay(
  failures: number,
  backoff: ReconnectBackoff = DEFAULT_RECONNECT,
  random: () => number = Math.random,
): number {
  const d = Math.min(backoff.maxMs, backoff.initialMs * 2 ** Math.min(failures, 30));
  return Math.max(1, Math.round(d * (0.5 + 0.5 * random())));
}

/**
 * CONNACK codes that say "not this protocol version":
 * - 0x01, MQTT 3.1.1 §3.2.2.3 "Connection Refused, unacceptable protocol version": a
 *   3.1.1 server answers a CONNECT with a protocol level it does not support so
 *   [MQTT-3.1.2-2]. aedes 1.2 does exactly this for MQTT 5, and mqtt.js (parsing the
 *   CONNACK as MQTT 5) reports it as reason code 1.
 * - 0x84, MQTT 5 §3.2.2.2 "Unsupported Protocol Version".
 */
export function isProtocolVersionRefusal(code: unknown): boolean {
  return code === 0x01 || code === 0x84;
}

/**
 * Errors of the TLS layer, not of MQTT: OpenSSL's (`ERR_SSL_*`, e.g. the TLS 1.3
 * `certificate required` alert) and Node's (`ERR_TLS_*`, e.g. a host name the
 * certificate does not name), and certificate verification codes (RFC 5280 path
 * validation as OpenSSL reports it: `UNABLE_TO_VERIFY_LEAF_SIGNATURE`,
 * `SELF_SIGNED_CERT_IN_CHAIN`, `CERT_HAS_EXPIRED`, …).
 */
export function isTlsFailure(code: unknown): boolean {
  return (
    typeof code === 'string' &&
    (/^ERR_(SSL|TLS)_/.test(code) || /CERT|UNABLE_TO_(GET|DECRYPT|DECODE|VERIFY)/.test(code))
  );
}

/** What one connection attempt saw, as far as negotiation cares. */
export interface AttemptOutcome {
  /** The transport (TCP/TLS) connected: the broker, not the network, ended the attempt. */
  transportUp: boolean;
  /** A CONNACK arrived (any return code). */
  connack: boolean;
  /** The CONNACK refused the protocol version. */
  refusedVersion: boolean;
}

/**
 * Should an MQTT 5 attempt that just closed make us retry as 3.1.1? Yes when the
 * broker said so, or when it accepted the transport and closed it (or let the connect
 * timeout run out) without any CONNACK: brokers that predate MQTT 5 do either when
 * they cannot parse the CONNECT. A refused TCP connection says nothing about the
 * protocol and never causes a fallback.
 */
export function shouldFallBackToV311(a: AttemptOutcome): boolean {
  return a.refusedVersion || (a.transportUp && !a.connack);
}
