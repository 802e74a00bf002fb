/**
 * What `servofleet up` prints: each child's pino JSON lines turned human-readable
 * under a part prefix, and the supervisor's own events.
 *
 *   12:03:04.120 [sim] control API on http://127.0.0.1:3100/sim/drives  url=http://127.0.0.1:3100
 *   12:03:09.871 [device bus-a] WARN drive not answering  driveId=axis-3 unit=3
 *   12:03:10.002 [up] device bus-b exited with code 2 after 0.4 s; restart 3 in 2 s
 *
 * Pure functions (and a small line splitter), so they are tested without processes.
 */
import { StringDecoder } from 'node:string_decoder';
import type { SupervisorEvent } from './supervisor.ts';

/**
 * Splits a byte stream into lines (\n or \r\n), UTF-8 safe across chunks. A line
 * longer than `maxLineChars` is cut there, so one runaway line cannot grow memory.
 */
export class LineSplitter {
  readonly #decoder = new StringDecoder('utf8');
  readonly #max: number;
  #rest = '';

  constructor(maxLineChars = 64 * 1024) {
    this.#max = maxLineChars;
  }

  feed(chunk: Buffer | string): string[] {
    const text = this.#rest + (typeof chunk === 'string' ? chunk : this.#decoder.write(chunk));
    const parts = text.split('\n');
    this.#rest = parts.pop() ?? '';
    const lines = parts.map(stripCr);
    while (this.#rest.length > this.#max) {
      lines.push(this.#rest.slice(0, this.#max));
      this.#rest = this.#rest.slice(this.#max);
    }
    return lines;
  }

  /** The unterminated rest, if any. */
  flush(): string[] {
    const rest = this.#rest + this.#decoder.end();
    this.#rest = '';
    return rest === '' ? [] : [stripCr(rest)];
  }
}

function stripCr(line: string): string {
  return line.endsWith('\r') ? line.slice(0, -1) : line;
}

export interface FormatOptions {
  /** Wall clock, ms since the epoch, for lines that carry no time of their own. */
  now: () => number;
  /** Time of day as shown; default local HH:MM:SS.mmm. */
  time?: (ms: number) => string;
  /** ANSI colours for prefixes and levels. */
  color?: boolean;
}

/** pino levels (https://getpino.io/#/docs/api?id=levels). */
const LEVELS: Record<number, string> = { 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
/** Fields every pino line of ours has, not worth repeating. */
const HIDDEN = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'service', 'name', 'v']);
const MAX_FIELDS = 6;
const MAX_VALUE = 80;

export function localTime(ms: number): string {
  const d = new Date(ms);
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
}

/** One line a child wrote, as shown: pino JSON made readable; anything else passed through. */
export function formatChildLine(part: string, line: string, o: FormatOptions): string {
  const time = o.time ?? localTime;
  const prefix = paint(`[${part}]`, partColor(part), o.color);
  const rec = parsePino(line);
  if (!rec) return `${time(o.now())} ${prefix} ${line}`;
  const t = typeof rec.time === 'number' ? rec.time : o.now();
  const level = typeof rec.level === 'number' ? LEVELS[Math.min(rec.level, 60)] : undefined;
  const levelText = level ? `${paint(level, level === 'WARN' ? 33 : 31, o.color)} ` : '';
  const msg = typeof rec.msg === 'string' ? rec.msg : '';
  const fields = Object.entries(rec)
    .filter(([k]) => !HIDDEN.has(k))
    .slice(0, MAX_FIELDS)
    .map(([k, v]) => `${k}=${formatValue(k, v)}`)
    .join(' ');
  return `${time(t)} ${prefix} ${levelText}${msg}${fields ? `  ${fields}` : ''}`;
}

/** The supervisor's own events; `output` events become child lines. */
export function formatEvent(e: SupervisorEvent, o: FormatOptions): string {
  if (e.type === 'output') return formatChildLine(e.part, e.line, o);
  const time = (o.time ?? localTime)(o.now());
  const prefix = paint('[up]', 1, o.color);
  switch (e.type) {
    case 'started':
      return e.restarts === 0
        ? `${time} ${prefix} started ${e.part} (pid ${e.pid ?? '?'})`
        : `${time} ${prefix} restarted ${e.part} (pid ${e.pid ?? '?'}, restart ${e.restarts})`;
    case 'stopping':
      return `${time} ${prefix} stopping ${e.part} (pid ${e.pid ?? '?'}, ${e.signal})`;
    case 'exited': {
      const how = e.error
        ? `failed to start: ${e.error}`
        : e.signal
          ? `was killed by ${e.signal}`
          : `exited with code ${e.code}`;
      const after = `after ${seconds(e.uptimeMs)}`;
      if (e.restartInMs === null) return `${time} ${prefix} ${e.part} ${how} ${after}`;
      const warn = paint('WARN', 33, o.color);
      return `${time} ${prefix} ${warn} ${e.part} ${how} ${after}; restarting in ${seconds(e.restartInMs)}`;
    }
  }
}

function seconds(ms: number): string {
  return ms < 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms / 1000)} s`;
}

function parsePino(line: string): Record<string, unknown> | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    const v: unknown = JSON.parse(line);
    return v && typeof v === 'object' && !Array.isArray(v)
      ? (v as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

function formatValue(key: string, v: unknown): string {
  // pino's err serializer: { type, message, stack, code? }
  if (key === 'err' && v && typeof v === 'object' && 'message' in v) {
    const e = v as { message: unknown; code?: unknown };
    return quote(`${e.code ? `${String(e.code)}: ` : ''}${String(e.message)}`);
  }
  if (typeof v === 'string') return quote(v);
  const s = JSON.stringify(v) ?? String(v);
  return s.length > MAX_VALUE ? `${s.slice(0, MAX_VALUE - 1)}…` : s;
}

function quote(s: string): string {
  const cut = s.length > MAX_VALUE ? `${s.slice(0, MAX_VALUE - 1)}…` : s;
  return /[\s"=]/.test(cut) || cut === '' ? JSON.stringify(cut) : cut;
}

const PALETTE = [36, 32, 35, 34, 96, 92, 95, 94];

function partColor(part: string): number {
  let h = 0;
  for (const ch of part) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  return PALETTE[h % PALETTE.length]!;
}

function paint(text: string, code: number, on: boolean | undefined): string {
  return on ? `\x1b[${code}m${text}\x1b[0m` : text;
}
