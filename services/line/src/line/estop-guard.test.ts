/**
 * The estop guard against a scripted drive port: after an estop, a drive that reports
 * OPERATION_ENABLED again gets another quickStop, but only on a state polled after its
 * quick stop completed (state and replies travel on different MQTT sessions, so a state
 * polled before the quick stop can arrive after its reply); a drive whose quick stop
 * failed is stopped again on any OPERATION_ENABLED. The estop event carries every
 * drive's answer.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Value } from '@sinclair/typebox/value';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { type Command, type DriveState, LineEventSchemas } from '../../../contract/src/index.ts';
import { type LineConfig, ManualClock } from '../../../runtime/src/index.ts';
import { OnlineDrivePort } from '../../test/drive-port.ts';
import { parseLine } from '../cycle/parse-cycle.ts';
import type { Final } from '../drives/drive-link.ts';
import { SagaBook, summarize } from '../saga/saga-book.ts';
import { SagaLog } from '../saga/saga-log.ts';
import { LineController } from './line-controller.ts';

const LINE = {
  id: 'l1',
  autoRejoin: true,
  adminPort: 0,
  stations: [
    { id: 'feed', drives: ['a1'], bypassable: false },
    { id: 'mark', drives: ['a2'], bypassable: true },
  ],
  cycle: [{ id: 'in', moveTo: { drive: 'a1', position: 100 } }],
} as unknown as LineConfig;
const DRIVES = new Map(
  ['a1', 'a2'].map((d) => [d, { protocol: 'modbus-rtu' as const, limits: {} }]),
);

class Port extends OnlineDrivePort {
  readonly sent: { driveId: string; type: string }[] = [];
  readonly #answers = new Map<string, (f: Final) => void>();
  readonly #states = new Set<(d: string, s: DriveState) => void>();
  override onState(cb: (d: string, s: DriveState) => void) {
    this.#states.add(cb);
    return () => {
      this.#states.delete(cb);
    };
  }
  send(driveId: string, command: Command): Promise<Final> {
    this.sent.push({ driveId, type: command.type });
    return new Promise((resolve) => this.#answers.set(driveId, resolve));
  }
  answer(driveId: string, f: Final) {
    this.#answers.get(driveId)!(f);
    this.#answers.delete(driveId);
  }
  state(driveId: string, ts: number) {
    const s = {
      driveId,
      ts,
      seq: ts,
      cia402: 'OPERATION_ENABLED',
      mode: 'PP',
      position: 0,
      velocity: 0,
      torque: 0,
      temperature: 30,
      voltage: 48,
      targetReached: true,
      fault: null,
    } as DriveState;
    for (const cb of this.#states) cb(driveId, s);
  }
}

const flush = async () => {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
};

describe('estop guard', () => {
  it('stops a drive again only on a state polled after its quick stop completed', async () => {
    const clock = new ManualClock();
    const path = join(mkdtempSync(join(tmpdir(), 'sf-estop-')), 'saga.jsonl');
    const { log: sagaLog, read } = SagaLog.open(path, { wallNow: () => clock.wallNow() });
    const port = new Port();
    const events: Record<string, unknown>[] = [];
    const controller = new LineController({
      plan: parseLine(LINE, DRIVES, '/lines/0'),
      link: port,
      book: new SagaBook(sagaLog, summarize(read.records)),
      clock,
      log: pino({ level: 'silent' }),
      out: { event: (e) => events.push(e as Record<string, unknown>), state: () => {} },
    });
    const quickStops = (d: string) =>
      port.sent.filter((s) => s.driveId === d && s.type === 'quickStop').length;

    const done = controller.estop('test');
    expect(quickStops('a1')).toBe(1);
    expect(quickStops('a2')).toBe(1);

    // Before its quick stop is answered, a state says nothing about a re-enable.
    port.state('a1', 1000);
    expect(quickStops('a1')).toBe(1);

    port.answer('a1', { status: 'completed', source: 'drive', ts: 2000 });
    await flush();
    // Polled before the quick stop completed, arriving after its reply: stale.
    port.state('a1', 1500);
    port.state('a1', 2000);
    expect(quickStops('a1')).toBe(1);
    // Polled after: the drive was enabled again.
    port.state('a1', 2500);
    expect(quickStops('a1')).toBe(2);

    // A quick stop that failed: any OPERATION_ENABLED counts.
    port.answer('a2', {
      status: 'failed',
      source: 'line',
      error: { code: 'DRIVE_UNREACHABLE', message: 'a2 is unreachable: not sent' },
    });
    await flush();
    port.state('a2', 10);
    expect(quickStops('a2')).toBe(2);

    const results = await done;
    expect(results.map((r) => [r.driveId, r.final.status])).toEqual([
      ['a1', 'completed'],
      ['a2', 'failed'],
    ]);
    // The estop event has every drive's answer (the guard's own quickStops are not answered yet).
    const estops = events.filter((e) => e.type === 'estop');
    expect(estops).toHaveLength(1);
    expect((estops[0]!.results as unknown[]).length).toBe(2);
    expect(estops[0]!.resent).toBeUndefined();

    // The guard's quickStops answered: an event each, marked `resent`.
    port.answer('a1', { status: 'completed', source: 'drive', ts: 3000 });
    port.answer('a2', { status: 'completed', source: 'drive', ts: 3000 });
    await flush();
    const again = events.filter((e) => e.type === 'estop').slice(1);
    expect(
      again.map((e) => [e.resent, (e.results as { driveId: string }[]).map((r) => r.driveId)]),
    ).toEqual([
      [true, ['a1']],
      [true, ['a2']],
    ]);
    // Each one as the contract has it (with the head the line's publisher adds).
    for (const e of events.filter((x) => x.type === 'estop')) {
      const published = { eventId: 'e-1', lineId: 'l1', ts: 1, ...e };
      expect(Value.Check(LineEventSchemas.estop, published), JSON.stringify(e)).toBe(true);
    }
  });
});
