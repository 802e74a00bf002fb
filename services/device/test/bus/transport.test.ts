import { createServer } from 'node:net';
import { SerialPortMock } from 'serialport';
import { describe, expect, it } from 'vitest';
import { createMemoryLinkPair } from '../../../../device-sim/src/index.ts';
import { BusError } from '../../src/bus/index.ts';
import {
  type Link,
  openLink,
  parseLinkUrl,
  ReconnectingLink,
  type SerialPortSettings,
} from '../../src/transport/index.ts';
import { flush, TestClock } from './harness.ts';

describe('transport URLs', () => {
  it.each([
    [
      'serial:///dev/ttyUSB0?baud=115200&parity=even',
      { kind: 'serial', path: '/dev/ttyUSB0', baud: 115200, parity: 'even' },
    ],
    ['serial:///dev/ttyUSB0', { kind: 'serial', path: '/dev/ttyUSB0' }],
    ['serial://COM3?baud=9600', { kind: 'serial', path: 'COM3', baud: 9600 }],
    ['tcp://127.0.0.1:4001', { kind: 'tcp', host: '127.0.0.1', port: 4001 }],
    ['tcp://[::1]:4001', { kind: 'tcp', host: '::1', port: 4001 }],
    ['memory://bus-a', { kind: 'memory', name: 'bus-a' }],
  ])('%s', (url, target) => {
    expect(parseLinkUrl(url)).toEqual(target);
  });

  it.each([
    'nonsense',
    'http://host:80',
    'tcp://host',
    'serial:///dev/ttyUSB0?baud=fast',
    'serial:///dev/ttyUSB0?parity=mark',
    'serial:///dev/ttyUSB0?baudrate=9600',
    'serial://',
  ])('%s is LINK_URL_INVALID', (url) => {
    expect(() => parseLinkUrl(url)).toThrow(expect.objectContaining({ code: 'LINK_URL_INVALID' }));
  });
});

describe('openLink', () => {
  it('serial://: opens the port 8 data bits, 1 stop bit, the parity asked, and moves bytes both ways', async () => {
    SerialPortMock.binding.createPort('/dev/ROBOT', { record: true });
    let settings: SerialPortSettings | undefined;
    let port: SerialPortMock | undefined;
    const link = await openLink('serial:///dev/ROBOT?parity=odd', {
      baud: 57600,
      createSerialPort: (s) => {
        settings = s;
        port = new SerialPortMock(s);
        return port;
      },
    });
    expect(settings).toEqual({
      path: '/dev/ROBOT',
      baudRate: 57600,
      parity: 'odd',
      dataBits: 8,
      stopBits: 1,
      autoOpen: false,
    });
    const got: number[] = [];
    link.onData((b) => got.push(...b));
    link.write(Uint8Array.of(1, 3, 0, 0, 0, 10, 0xc5, 0xcd));
    await new Promise((r) => setTimeout(r, 20));
    expect([...port!.port!.recording]).toEqual([1, 3, 0, 0, 0, 10, 0xc5, 0xcd]);
    port!.port!.emitData(Buffer.from([1, 3, 2, 0x02, 0x50]));
    await new Promise((r) => setTimeout(r, 20));
    expect(got).toEqual([1, 3, 2, 0x02, 0x50]);
    const closed = new Promise<void>((r) => link.onClose(r));
    link.close();
    await closed;
    expect(link.closed).toBe(true);
    SerialPortMock.binding.reset();
  });

  it('serial://: a port that does not exist is LINK_OPEN_FAILED', async () => {
    await expect(
      openLink('serial:///dev/NOPE?baud=9600', { createSerialPort: (s) => new SerialPortMock(s) }),
    ).rejects.toMatchObject({ code: 'LINK_OPEN_FAILED' });
    await expect(openLink('serial:///dev/NOPE')).rejects.toMatchObject({
      code: 'LINK_URL_INVALID', // no baud rate anywhere
    });
  });

  it('tcp://: connects with Nagle off; a refused port is LINK_OPEN_FAILED', async () => {
    const server = createServer((s) => s.pipe(s)); // an echoing bridge
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as { port: number };
    const link = await openLink(`tcp://127.0.0.1:${port}`);
    const echoed = new Promise<number[]>((r) => link.onData((b) => r([...b])));
    link.write(Uint8Array.of(0xff, 0xff, 0xfd, 0));
    expect(await echoed).toEqual([0xff, 0xff, 0xfd, 0]);
    link.close();
    await new Promise<void>((r) => server.close(() => r()));
    await expect(openLink(`tcp://127.0.0.1:${port}`)).rejects.toMatchObject({
      code: 'LINK_OPEN_FAILED',
    });
  });

  it('memory://: the caller supplies the link', async () => {
    const [a] = createMemoryLinkPair();
    expect(await openLink('memory://bus-a', { memory: (name) => (name === 'bus-a' ? a : a) })).toBe(
      a,
    );
    await expect(openLink('memory://bus-a')).rejects.toMatchObject({ code: 'LINK_OPEN_FAILED' });
  });
});

describe('ReconnectingLink', () => {
  it('reopens with a growing, capped, jittered backoff; LINK_DOWN while down; up/down events', async () => {
    const clock = new TestClock(0);
    let opens = 0;
    let current: Link | undefined;
    const link = new ReconnectingLink(
      async () => {
        opens++;
        if (opens <= 4) throw new Error('ECONNREFUSED');
        const [master, far] = createMemoryLinkPair();
        far.onData((b) => far.write(b)); // echo, so the link carries data
        current = master;
        return master;
      },
      { clock, initialDelayMs: 100, maxDelayMs: 400, random: () => 0.5 },
    );
    const delays: number[] = [];
    const events: string[] = [];
    link.onRetry((_err, ms) => delays.push(ms));
    link.onUp(() => events.push('up'));
    link.onDown((why) => events.push(`down: ${why}`));
    expect(() => link.write(Uint8Array.of(1))).toThrow(BusError);
    expect(() => link.write(Uint8Array.of(1))).toThrow(
      expect.objectContaining({ code: 'LINK_DOWN' }),
    );
    link.start();
    for (let i = 0; i < 20 && !link.up; i++) {
      await flush();
      clock.advance(clock.nextDue() === undefined ? 0 : clock.nextDue()! - clock.now());
    }
    expect(link.up).toBe(true);
    // d = 100, 200, 400, 400 (capped); each drawn from [d/2, d): 0.75 d with random 0.5
    expect(delays).toEqual([75, 150, 300, 300]);
    expect(events).toEqual(['up']);
    const got: number[] = [];
    link.onData((b) => got.push(...b));
    link.write(Uint8Array.of(7, 8));
    await flush();
    expect(got).toEqual([7, 8]);
    current!.close(); // the far end goes away
    await flush();
    expect(events).toEqual(['up', 'down: the connection closed']);
    expect(link.up).toBe(false);
    expect(delays.at(-1)).toBe(75); // it had carried data: the backoff starts over
    clock.advance(75);
    await flush();
    await flush();
    expect(link.up).toBe(true);
    expect(events.at(-1)).toBe('up');
    link.close();
    expect(link.up).toBe(false);
    expect(events.at(-1)).toBe('up'); // closing is not a failure
  });
});
