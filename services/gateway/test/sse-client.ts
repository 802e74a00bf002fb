/**
 * A minimal Server-Sent Events reader over node:http for tests: records every event
 * (id, type, parsed data) and comment, and answers bounded "wait until…" questions.
 */
import { type IncomingMessage, request } from 'node:http';

export interface SseEvent {
  id: string | undefined;
  type: string;
  data: Record<string, unknown>;
}

export interface SseClient {
  status: number;
  headers: IncomingMessage['headers'];
  events: SseEvent[];
  comments: string[];
  /** Raw error body, for non-200 answers. */
  body: string;
  waitFor(pred: (e: SseEvent) => boolean, what: string, timeoutMs?: number): Promise<SseEvent>;
  close(): void;
}

export function openSse(url: string, headers: Record<string, string>): Promise<SseClient> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { accept: 'text/event-stream', ...headers } }, (res) => {
      const c: SseClient = {
        status: res.statusCode ?? 0,
        headers: res.headers,
        events: [],
        comments: [],
        body: '',
        async waitFor(pred, what, timeoutMs = 5000) {
          const deadline = Date.now() + timeoutMs;
          for (;;) {
            const e = c.events.find(pred);
            if (e) return e;
            if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
            await new Promise((r) => setTimeout(r, 10));
          }
        },
        close: () => req.destroy(),
      };
      let buf = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        if (c.status !== 200) {
          c.body += chunk;
          return;
        }
        buf += chunk;
        let i = buf.indexOf('\n\n');
        while (i >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          let id: string | undefined;
          let type = 'message';
          const data: string[] = [];
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) c.comments.push(line.slice(1).trim());
            else if (line.startsWith('id: ')) id = line.slice(4);
            else if (line.startsWith('event: ')) type = line.slice(7);
            else if (line.startsWith('data: ')) data.push(line.slice(6));
          }
          if (data.length > 0) c.events.push({ id, type, data: JSON.parse(data.join('\n')) });
          i = buf.indexOf('\n\n');
        }
      });
      res.on('error', () => {});
      if (c.status !== 200) res.on('end', () => resolve(c));
      else resolve(c);
    });
    req.on('error', (err) => {
      if ((err as NodeJS.ErrnoException).code !== 'ECONNRESET') reject(err);
    });
    req.end();
  });
}
