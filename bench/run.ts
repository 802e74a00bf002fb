/**
 * `npm run bench [-- SUITE...]`: run benchmark suites (all by default), print one
 * table, write bench/results/SUITE.json with the machine's description.
 */

import { deviceSuite } from './device.bench.ts';
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
const all: Row[] = [];
for (const name of names) {
  const rows = await SUITES[name]!();
  writeResults(name, rows);
  all.push(...rows);
}
printTable(all);
console.log(`\nresults written to bench/results/{${names.join(',')}}.json`);
