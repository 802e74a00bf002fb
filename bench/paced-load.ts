/**
 * An open-loop HTTP load at a set rate, in its own process, for latency targets at a
 * given load (`node bin/run-ts.js bench/paced-load.ts SPEC_JSON`; prints one JSON line).
 *
 * autocannon's `overallRate` does not give a set load: each connection fires its whole
 * second's budget back to back when the second starts, then waits (so "1000 req/s" is
 * bursts at saturation), and it records latencies in whole milliseconds, padded by
 * coordinated-omission correction for a 1 ms interval. Here requests leave on a fixed
 * schedule (every 1000/rate ms, on keep-alive connections), and each latency is taken
 * with performance.now() from the moment the request was handed to the socket pool to
 * the end of its answer. How far the sender itself fell behind its schedule is
 * reported too, so a late load generator cannot pass for a fast server. The first
 * `warmupSeconds` (default 1) of the schedule are run but not counted: a cold
 * client's first requests measure its own start-up and JIT, not the server.
 */
import { Agent, request } from 'node:http';

/** What to load (the JSON argument). */
export interface PacedSpec {
  url: string;
  rate: number;
  seconds: number;
  connections: number;
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  warmupSeconds?: number;
}

/** What it prints: every counted latency (ms) and answer status. */
export interface PacedResult {
  latencies: number[];
  statuses: Record<string, number>;
  errors: number;
  maxLagMs: number;
  total: number;
}

const spec = JSON.parse(process.argv[2] ?? '{}') as PacedSpec;
if (!spec.url || !(spec.rate > 0) || !(spec.seconds > 0) || !(spec.connections > 0)) {
  process.stderr.write('usage: paced-load.ts {"url","rate","seconds","connections",…}\n');
  process.exit(2);
}

const agent = new Agent({ keepAlive: true, maxSockets: spec.connections });
const warm = Math.round(spec.rate * (spec.warmupSeconds ?? 1));
const total = warm + Math.round(spec.rate * spec.seconds);
const interval = 1000 / spec.rate;
const latencies: number[] = [];
const statuses: Record<string, number> = {};
let errors = 0;
let maxLagMs = 0;
let sent = 0;
let done = 0;

function finish(): void {
  agent.destroy();
  process.stdout.write(
    `${JSON.stringify({ latencies, statuses, errors, maxLagMs, total: total - warm })}\n`,
  );
}

/** One request; `onEnd` gets its latency (ms) and status, or an error. */
function fire(onEnd: (ms: number, status: number | Error) => void): void {
  const t0 = performance.now();
  const req = request(
    spec.url,
    { method: spec.method ?? 'GET', agent, headers: spec.headers ?? {} },
    (res) => {
      res.resume();
      res.on('end', () => onEnd(performance.now() - t0, res.statusCode ?? 0));
    },
  );
  req.on('error', (err) => onEnd(performance.now() - t0, err));
  req.end(spec.body);
}

function send(index: number): void {
  fire((ms, status) => {
    if (index < warm) {
      // warm-up: not counted
    } else if (status instanceof Error) errors++;
    else {
      latencies.push(ms);
      const k = String(status);
      statuses[k] = (statuses[k] ?? 0) + 1;
    }
    if (++done === total) finish();
  });
}

const start = performance.now() + 20;
function tick(): void {
  const now = performance.now();
  while (sent < total && start + sent * interval <= now) {
    if (sent >= warm) maxLagMs = Math.max(maxLagMs, now - (start + sent * interval));
    send(sent++);
  }
  if (sent < total) setTimeout(tick, Math.max(0, start + sent * interval - performance.now()));
}
setTimeout(tick, 20);
// Bounded: whatever happens, the process ends.
setTimeout(
  () => {
    process.stderr.write(`paced-load: ${total - done} answers missing\n`);
    finish();
    process.exit(1);
  },
  spec.seconds * 1000 + 30_000,
).unref();
