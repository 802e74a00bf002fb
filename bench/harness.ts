/**
 * Benchmark plumbing: time a function in batches until a time budget is spent, take
 * the median of several rounds, print a table, write JSON with the machine's
 * description. Benchmarks only; tests never assert on timings.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { arch, cpus, release, totalmem, type } from 'node:os';
import { resolve } from 'node:path';

export interface Row {
  suite: string;
  name: string;
  value: number;
  unit: string;
  /** Same measurement of the reference, when there is one. */
  reference?: { name: string; value: number };
  note?: string;
}

/**
 * Operations per second of `fn` (which performs `opsPerCall` operations), median of
 * `rounds` rounds of about `roundMs` each, after one warm-up round.
 */
export function opsPerSecond(fn: () => void, opsPerCall = 1, rounds = 5, roundMs = 400): number {
  const results: number[] = [];
  for (let r = 0; r <= rounds; r++) {
    let calls = 0;
    const start = performance.now();
    let now = start;
    while (now - start < roundMs) {
      for (let i = 0; i < 64; i++) fn();
      calls += 64;
      now = performance.now();
    }
    if (r > 0) results.push((calls * opsPerCall * 1000) / (now - start));
  }
  results.sort((a, b) => a - b);
  return results[Math.floor(results.length / 2)]!;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export function machine() {
  const c = cpus();
  return {
    node: process.version,
    cpu: c[0]?.model ?? 'unknown',
    cores: c.length,
    memGiB: Math.round(totalmem() / 2 ** 30),
    os: `${type()} ${release()} ${arch()}`,
    date: new Date().toISOString(),
  };
}

function fmt(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (Math.abs(v) >= 100) return Math.round(v).toLocaleString('en-US');
  return v.toPrecision(3);
}

export function printTable(rows: Row[]): void {
  const lines = [['suite', 'measurement', 'servofleet', 'reference', 'ratio']];
  for (const r of rows) {
    const ref = r.reference ? `${fmt(r.reference.value)} (${r.reference.name})` : '';
    const ratio = r.reference ? `${(r.value / r.reference.value).toFixed(2)}×` : '';
    lines.push([r.suite, r.name, `${fmt(r.value)} ${r.unit}`, ref, ratio]);
  }
  const widths = lines[0]!.map((_, i) => Math.max(...lines.map((l) => l[i]!.length)));
  for (const [i, l] of lines.entries()) {
    console.log(l.map((c, j) => c.padEnd(widths[j]!)).join('  '));
    if (i === 0) console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  }
  for (const r of rows) if (r.note) console.log(`  ${r.suite}/${r.name}: ${r.note}`);
}

export function writeResults(suite: string, rows: Row[]): string {
  const dir = resolve(import.meta.dirname, 'results');
  mkdirSync(dir, { recursive: true });
  const file = resolve(dir, `${suite}.json`);
  writeFileSync(file, `${JSON.stringify({ machine: machine(), suite, rows }, null, 2)}\n`);
  return file;
}
