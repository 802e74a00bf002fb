/**
 * `npm run bench [-- SUITE...]`: run benchmark suites (all by default), print one
 * table, write bench/results/SUITE.json with the machine's description; a run of every
 * suite also writes bench/results.json: the machine, how long each suite took, and
 * every row. A suite that fails is reported and the others still run (exit code 1).
 */

import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ensureBuild } from '../services/cli/build.ts';
import { deviceSuite } from './device.bench.ts';
import { fleetSuite } from './fleet.bench.ts';
import { gatewaySuite } from './gateway.bench.ts';
import { machine, printTable, type Row, writeResults } from './harness.ts';
import { journalSuite } from './journal.bench.ts';
import { lineSuite } from './line.bench.ts';
import { protocolSuite } from './protocol.bench.ts';
import { simSuite } from './sim.bench.ts';

const SUITES: Record<string, () => Promise<Row[]>> = {
  protocol: protocolSuite,
  sim: simSuite,
  device: deviceSuite,
  gateway: gatewaySuite,
  line: lineSuite,
  journal: journalSuite,
  fleet: fleetSuite,
};

const asked = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const unknown = asked.filter((s) => !(s in SUITES));
if (unknown.length > 0) {
  console.error(
    `unknown suite(s): ${unknown.join(', ')}; suites: ${Object.keys(SUITES).join(', ')}`,
  );
  process.exit(2);
}
const names = asked.length > 0 ? asked : Object.keys(SUITES);
const m = machine();
console.log(`servofleet benchmarks on ${m.cpu} (${m.cores} cores), node ${m.node}\n`);
// Service processes start from the bundle, as `servofleet up` starts them (build.ts).
if (!process.env.SERVOFLEET_NO_BUNDLE) await ensureBuild((line) => console.log(line));
const all: Row[] = [];
const seconds: Record<string, number> = {};
const failed: string[] = [];
const start = performance.now();
for (const name of names) {
  const t = performance.now();
  try {
    const rows = await SUITES[name]!();
    writeResults(name, rows);
    all.push(...rows);
  } catch (err) {
    failed.push(name);
    console.error(`suite ${name} failed:`, err);
  }
  seconds[name] = Math.round((performance.now() - t) / 100) / 10;
  console.error(`suite ${name}: ${seconds[name]} s`);
}
const total = Math.round((performance.now() - start) / 100) / 10;
printTable(all);
const written = names.filter((n) => !failed.includes(n));
console.log(`\nresults written to bench/results/{${written.join(',')}}.json`);
if (asked.length === 0) {
  const file = resolve(import.meta.dirname, 'results.json');
  const out = { machine: m, seconds: { ...seconds, total }, failed, rows: all };
  writeFileSync(file, `${JSON.stringify(out, null, 2)}\n`);
  console.log('and every row to bench/results.json');
}
console.log(
  `took ${total} s (${Object.entries(seconds)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ')})`,
);
if (failed.length > 0) console.error(`failed: ${failed.join(', ')}`);
// A suite that failed may have left a handle open: do not wait for it.
process.exit(failed.length > 0 ? 1 : 0);
