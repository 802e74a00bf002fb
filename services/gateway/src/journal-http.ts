/**
 * The journal's query API over HTTP (fleet file `journal.host`/`journal.port`,
 * `GET /events?…`), relayed as it answers. When nothing listens there the route says
 * 503 SERVICE_UNAVAILABLE with the reason.
 */
import type { JournalPort, Relayed } from './ports.ts';

export function httpJournal(baseUrl: string, timeoutMs = 5000): JournalPort {
  return {
    async query(q): Promise<Relayed> {
      const qs = new URLSearchParams(q).toString();
      let res: Response;
      try {
        res = await fetch(`${baseUrl}/events${qs ? `?${qs}` : ''}`, {
          signal: AbortSignal.timeout(timeoutMs),
          headers: { accept: 'application/json' },
        });
      } catch (err) {
        const cause = (err as { cause?: { code?: string; message?: string } }).cause;
        throw new Error(`${baseUrl}: ${cause?.code ?? cause?.message ?? (err as Error).message}`);
      }
      const text = await res.text();
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        throw new Error(`the journal answered ${res.status} with a body that is not JSON`);
      }
      return { status: res.status, body };
    },
  };
}
