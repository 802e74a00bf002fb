import { connectAsync } from 'mqtt';
import { describe, expect, it } from 'vitest';
import { RuntimeError, startEmbeddedBroker, waitForTcpPort } from '../src/index.ts';
import { freePort, memoryLogger } from './helpers.ts';

describe('startEmbeddedBroker', () => {
  it('listens on loopback, logs its URL once, accepts MQTT 3.1.1 clients, closes', async () => {
    const { log, lines } = memoryLogger('info');
    const b = await startEmbeddedBroker({ port: 0, log });
    expect(b.url).toBe(`mqtt://127.0.0.1:${b.port}`);
    expect(lines()).toEqual([
      expect.objectContaining({ url: b.url, msg: `MQTT broker (aedes) listening on ${b.url}` }),
    ]);
    const c = await connectAsync(b.url, { protocolVersion: 4, reconnectPeriod: 0 });
    expect(c.connected).toBe(true);
    const closedByBroker = new Promise<void>((r) => c.once('close', () => r()));
    await b.close();
    await closedByBroker;
    await c.endAsync(true);
    expect(lines().at(-1)).toMatchObject({ msg: 'MQTT broker stopped' });
  });

  it('answers an MQTT 5 CONNECT with CONNACK 0x01 (unacceptable protocol version)', async () => {
    const b = await startEmbeddedBroker({ port: 0, log: memoryLogger().log });
    try {
      const err = await connectAsync(b.url, { protocolVersion: 5, reconnectPeriod: 0 }).catch(
        (e: unknown) => e,
      );
      expect(err).toMatchObject({ code: 1 });
    } finally {
      await b.close();
    }
  });

  it('fails with LISTEN_FAILED when the port is taken', async () => {
    const b = await startEmbeddedBroker({ port: 0, log: memoryLogger().log });
    try {
      const err = await startEmbeddedBroker({ port: b.port, log: memoryLogger().log }).catch(
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(RuntimeError);
      expect((err as RuntimeError).code).toBe('LISTEN_FAILED');
    } finally {
      await b.close();
    }
  });
});

describe('waitForTcpPort', () => {
  it('resolves once a listener appears, and times out with PORT_WAIT_TIMEOUT when none does', async () => {
    const port = await freePort();
    const err = await waitForTcpPort({
      host: '127.0.0.1',
      port,
      timeoutMs: 150,
      intervalMs: 20,
    }).catch((e: unknown) => e);
    expect((err as RuntimeError).code).toBe('PORT_WAIT_TIMEOUT');
    const waiting = waitForTcpPort({ host: '127.0.0.1', port, timeoutMs: 5000, intervalMs: 20 });
    const b = await startEmbeddedBroker({ port, log: memoryLogger().log });
    try {
      await expect(waiting).resolves.toBeUndefined();
    } finally {
      await b.close();
    }
  });
});
