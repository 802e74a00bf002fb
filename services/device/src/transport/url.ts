/**
 * Transport URLs: `serial:///dev/ttyUSB0?baud=115200&parity=none` (a local serial port,
 * 8 data bits, 1 stop bit), `tcp://host:port` (a raw TCP serial bridge, ser2net / Moxa
 * style) and `memory://name` (an in-memory link the caller supplies: tests, the
 * simulator in the same process).
 */
import { BusError } from '../bus/errors.ts';

export type Parity = 'none' | 'even' | 'odd';

export type LinkTarget =
  | { kind: 'serial'; path: string; baud?: number; parity?: Parity }
  | { kind: 'tcp'; host: string; port: number }
  | { kind: 'memory'; name: string };

/**
 * What a transport adds to the wire time, by kind: the allowance the scheduler adds
 * to every transaction timeout (a USB adapter's latency timer, a TCP round trip), and
 * whether chunk timestamps tell when bytes crossed the wire (only an in-memory link on
 * the same clock does; a USB adapter or a TCP bridge batches bytes, so the Modbus
 * 3.5-character silence rule cannot be applied to their arrival times).
 */
export const TRANSPORT_DEFAULTS = {
  serial: { latencyMs: 10, wireTimestamps: false },
  tcp: { latencyMs: 20, wireTimestamps: false },
  memory: { latencyMs: 1, wireTimestamps: true },
} as const;

const PARITIES: readonly string[] = ['none', 'even', 'odd'];

/** Parses a transport URL; LINK_URL_INVALID when it is none of the three forms. */
export function parseLinkUrl(url: string): LinkTarget {
  let u: URL;
  try {
    u = new URL(url);
  } catch (cause) {
    throw new BusError('LINK_URL_INVALID', `'${url}' is not a URL`, { cause });
  }
  switch (u.protocol) {
    case 'serial:': {
      const path = decodeURIComponent(u.host ? `${u.host}${u.pathname}` : u.pathname);
      if (path === '' || path === '/') {
        throw new BusError('LINK_URL_INVALID', `'${url}': no serial device path`);
      }
      const target: LinkTarget = { kind: 'serial', path };
      const baud = u.searchParams.get('baud');
      if (baud !== null) {
        const n = Number(baud);
        if (!Number.isInteger(n) || n < 50 || n > 20_000_000) {
          throw new BusError('LINK_URL_INVALID', `'${url}': baud ${baud} is not a baud rate`);
        }
        target.baud = n;
      }
      const parity = u.searchParams.get('parity');
      if (parity !== null) {
        if (!PARITIES.includes(parity)) {
          throw new BusError('LINK_URL_INVALID', `'${url}': parity must be none, even or odd`);
        }
        target.parity = parity as Parity;
      }
      for (const key of u.searchParams.keys()) {
        if (key !== 'baud' && key !== 'parity') {
          throw new BusError('LINK_URL_INVALID', `'${url}': unknown parameter '${key}'`);
        }
      }
      return target;
    }
    case 'tcp:': {
      const port = Number(u.port);
      if (u.hostname === '' || !Number.isInteger(port) || port < 1 || port > 65535) {
        throw new BusError('LINK_URL_INVALID', `'${url}': tcp:// needs host:port`);
      }
      const host = u.hostname.replace(/^\[(.*)\]$/, '$1'); // IPv6 literal
      return { kind: 'tcp', host, port };
    }
    case 'memory:':
      return { kind: 'memory', name: decodeURIComponent(`${u.host}${u.pathname}`) };
    default:
      throw new BusError(
        'LINK_URL_INVALID',
        `'${url}': the transport must be serial://, tcp:// or memory://`,
      );
  }
}
