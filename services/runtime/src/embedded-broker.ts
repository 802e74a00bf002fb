/**
 * The embedded MQTT broker: aedes 1.2 on a plain TCP server, loopback by default.
 * aedes 1.2 speaks MQTT 3.1.1 (and 3.1) only: it answers an MQTT 5 CONNECT with a
 * 3.1.1 CONNACK, return code 0x01 "unacceptable protocol version" ([MQTT-3.1.2-2]),
 * which is what `connectMqtt` in `mqtt.ts` detects to fall back. Sessions and
 * retained messages live in memory: a restart forgets them, so every client
 * republishes its retained topics on (re)connect.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { Aedes } from 'aedes';
import { RuntimeError } from './errors.ts';
import type { Logger } from './logger.ts';

export interface EmbeddedBrokerOptions {
  /** Default 127.0.0.1: the broker has no authentication. */
  host?: string;
  /** 0 picks a free port (see `EmbeddedBroker.port`). */
  port: number;
  log: Logger;
}

export interface EmbeddedBroker {
  readonly host: string;
  readonly port: number;
  /** `mqtt://host:port`. */
  readonly url: string;
  readonly aedes: Aedes;
  /** Stops accepting, disconnects every client, resolves when closed. */
  close(): Promise<void>;
}

export async function startEmbeddedBroker(opts: EmbeddedBrokerOptions): Promise<EmbeddedBroker> {
  const host = opts.host ?? '127.0.0.1';
  const log = opts.log;
  const aedes = await Aedes.createBroker();
  aedes.on('clientError', (client, err) => {
    log.debug({ clientId: client.id, err: err.message }, 'MQTT client error');
  });
  aedes.on('connectionError', (client, err) => {
    log.debug({ clientId: client.id, err: err.message }, 'MQTT connection error');
  });
  aedes.on('clientReady', (client) => log.debug({ clientId: client.id }, 'MQTT client connected'));
  aedes.on('clientDisconnect', (client) => {
    log.debug({ clientId: client.id }, 'MQTT client disconnected');
  });

  const sockets = new Set<Socket>();
  // No Nagle: a small publish must not wait for the client's delayed ACK.
  const server = createServer({ noDelay: true }, (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    aedes.handle(socket);
  });
  try {
    await listen(server, host, opts.port);
  } catch (cause) {
    await new Promise<void>((resolve) => aedes.close(() => resolve()));
    const msg = cause instanceof Error ? cause.message : String(cause);
    throw new RuntimeError(
      'LISTEN_FAILED',
      `MQTT broker cannot listen on ${host}:${opts.port}: ${msg}`,
      {
        cause,
      },
    );
  }
  const addr = server.address();
  const port = addr && typeof addr === 'object' ? addr.port : opts.port;
  const url = `mqtt://${host.includes(':') ? `[${host}]` : host}:${port}`;
  log.info({ url, protocols: ['3.1.1', '3.1'] }, `MQTT broker (aedes) listening on ${url}`);

  let closing: Promise<void> | undefined;
  return {
    host,
    port,
    url,
    aedes,
    close() {
      closing ??= (async () => {
        const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
        await new Promise<void>((resolve) => aedes.close(() => resolve()));
        // aedes closes its clients' streams; anything left (a socket that never sent
        // CONNECT) goes too, or server.close() would wait for it.
        for (const s of sockets) s.destroy();
        await serverClosed;
        log.info({ url }, 'MQTT broker stopped');
      })();
      return closing;
    },
  };
}

function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    server.once('error', onError);
    server.listen({ host, port }, () => {
      server.off('error', onError);
      resolve();
    });
  });
}
