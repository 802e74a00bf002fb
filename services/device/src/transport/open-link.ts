/** Opens a link from its transport URL (see `url.ts`). */
import type { Clock } from '../../../runtime/src/clock.ts';
import { BusError } from '../bus/errors.ts';
import type { Link } from './link.ts';
import { openSerialLink, type SerialLinkOptions } from './serial-link.ts';
import { openTcpLink } from './tcp-link.ts';
import { type Parity, parseLinkUrl } from './url.ts';

export interface OpenLinkOptions {
  /** Line speed of a serial port, unless the URL says `?baud=`. */
  baud?: number;
  /** Parity of a serial port, unless the URL says `?parity=` (default none). */
  parity?: Parity;
  /** `memory://name`: the caller supplies the link (e.g. `(name) => sim.connect(name)`). */
  memory?: (name: string) => Link | Promise<Link>;
  /** Serial port factory, for tests (serialport's `SerialPortMock`). */
  createSerialPort?: SerialLinkOptions['createPort'];
  /** tcp://: give up connecting after this long (default 3000 ms). */
  connectTimeoutMs?: number;
  clock?: Clock;
}

/** LINK_URL_INVALID for a bad URL, LINK_OPEN_FAILED when the transport cannot be opened. */
export async function openLink(url: string, opts: OpenLinkOptions = {}): Promise<Link> {
  const target = parseLinkUrl(url);
  switch (target.kind) {
    case 'serial': {
      const baud = target.baud ?? opts.baud;
      if (baud === undefined) {
        throw new BusError('LINK_URL_INVALID', `'${url}': no baud rate (?baud= or the option)`);
      }
      const parity = target.parity ?? opts.parity ?? 'none';
      return openSerialLink(target.path, {
        baud,
        parity,
        ...(opts.createSerialPort ? { createPort: opts.createSerialPort } : {}),
      });
    }
    case 'tcp':
      return openTcpLink(target.host, target.port, {
        ...(opts.connectTimeoutMs === undefined ? {} : { connectTimeoutMs: opts.connectTimeoutMs }),
        ...(opts.clock ? { clock: opts.clock } : {}),
      });
    case 'memory': {
      if (!opts.memory) {
        throw new BusError('LINK_OPEN_FAILED', `'${url}': no in-memory link supplied`);
      }
      try {
        return await opts.memory(target.name);
      } catch (cause) {
        const why = cause instanceof Error ? cause.message : String(cause);
        throw new BusError('LINK_OPEN_FAILED', `'${url}': ${why}`, { cause });
      }
    }
  }
}
