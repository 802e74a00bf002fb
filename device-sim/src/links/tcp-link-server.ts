/**
 * Serves one simulated serial line over TCP as raw bytes, the way ser2net or a Moxa
 * serial server does: one client at a time (a second connection is closed at once, as
 * the port is busy), no framing, no handshake. A disconnect fault drops the client
 * and refuses new ones until it ends.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { type Link, LinkEvents } from './link.ts';

class SocketLink implements Link {
  readonly #events = new LinkEvents();
  readonly #socket: Socket;

  constructor(socket: Socket) {
    this.#socket = socket;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.#events.emitData(new Uint8Array(chunk)));
    socket.on('close', () => this.#events.emitClose());
    socket.on('error', () => socket.destroy());
  }

  get closed(): boolean {
    return this.#events.closed;
  }

  write(bytes: Uint8Array): void {
    if (!this.closed && this.#socket.writable) this.#socket.write(bytes);
  }

  close(): void {
    this.#socket.destroy();
  }

  onData(listener: (bytes: Uint8Array) => void): void {
    this.#events.onData(listener);
  }

  onClose(listener: () => void): void {
    this.#events.onClose(listener);
  }
}

export class TcpLinkServer {
  readonly #server: Server;
  #client: SocketLink | undefined;
  #refuseUntil = 0;
  #host: string;
  #port: number;

  /** `onClient` is called with each accepted client's link. */
  constructor(host: string, port: number, onClient: (link: Link) => void) {
    this.#host = host;
    this.#port = port;
    this.#server = createServer((socket) => {
      if (this.#client || Date.now() < this.#refuseUntil) {
        socket.destroy();
        return;
      }
      const link = new SocketLink(socket);
      this.#client = link;
      link.onClose(() => {
        if (this.#client === link) this.#client = undefined;
      });
      onClient(link);
    });
  }

  async listen(): Promise<{ host: string; port: number }> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(this.#port, this.#host, () => {
        this.#server.off('error', reject);
        resolve();
      });
    });
    const addr = this.#server.address();
    if (addr && typeof addr === 'object') this.#port = addr.port;
    return { host: this.#host, port: this.#port };
  }

  get address(): string {
    return `tcp://${this.#host}:${this.#port}`;
  }

  get connected(): boolean {
    return this.#client !== undefined;
  }

  /** Drop the client and refuse connections for `ms` (wall clock: a network outage). */
  disconnect(ms: number): void {
    this.#refuseUntil = Date.now() + ms;
    this.#client?.close();
  }

  async close(): Promise<void> {
    this.#client?.close();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
