/**
 * The saga runner against a scripted drive port (no MQTT, no simulator) and a real saga
 * log in a temp directory: intent durable before every send, deterministic commandIds,
 * bypass of a bypassable station, failure and compensation newest step first, replay
 * after a restart (no resend of what completed, the same payload for what was in
 * flight, a fresh id for what never ran).
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { Command } from '../../../contract/src/index.ts';
import { type LineConfig, ManualClock } from '../../../runtime/src/index.ts';
import { OnlineDrivePort } from '../../test/drive-port.ts';
import { parseLine } from '../cycle/parse-cycle.ts';
import type { Final, SendOptions } from '../drives/drive-link.ts';
import { SagaBook, summarize } from './saga-book.ts';
import { parseLog, SagaLog } from './saga-log.ts';
import { compensate, type RunnerContext, runCycle, type StepEventBody } from './saga-runner.ts';

const log = pino({ level: 'silent' });
const OK: Final = { status: 'completed', source: 'drive' };

const LINE = {
  id: 'l1',
  autoRejoin: true,
  adminPort: 0,
  stations: [
    { id: 'feed', drives: ['a1'], bypassable: false },
    { id: 'mark', drives: ['a2'], bypassable: true },
    { id: 'arm', drives: ['a3', 'a4'], bypassable: false },
  ],
  cycle: [
    { id: 'in', moveTo: { drive: 'a1', position: 100 }, timeoutMs: 1000 },
    {
      id: 'both',
      parallel: [
        { moveTo: { drive: 'a2', position: 5 }, compensate: { moveTo: { position: 0 } } },
        { moveTo: { drive: 'a3', position: 7 }, compensate: { moveTo: { position: 0 } } },
      ],
    },
    { id: 'grip', moveTo: { drive: 'a4', position: 9 }, compensate: 'none' },
    { id: 'out', moveTo: { drive: 'a1', position: 0 } },
  ],
} as unknown as LineConfig;
const DRIVES = new Map(
  ['a1', 'a2', 'a3', 'a4'].map((d) => [d, { protocol: 'modbus-rtu' as const, limits: {} }]),
);

type Answer = (driveId: string, cmd: Command, o: SendOptions) => Final | Promise<Final>;

class ScriptedPort extends OnlineDrivePort {
  readonly sent: { driveId: string; command: Command }[] = [];
  answer: Answer = () => OK;
  onSend: (cmd: Command) => void = () => {};
  async send(driveId: string, command: Command, o: SendOptions): Promise<Final> {
    this.sent.push({ driveId, command });
    this.onSend(command);
    return this.answer(driveId, command, o);
  }
}

function setup(path = join(mkdtempSync(join(tmpdir(), 'sf-runner-')), 'saga.jsonl')) {
  const clock = new ManualClock();
  const { log: sagaLog, read } = SagaLog.open(path, { wallNow: () => clock.wallNow() });
  const book = new SagaBook(sagaLog, summarize(read.records));
  const port = new ScriptedPort();
  const bypassed = new Map<string, string>();
  const events: StepEventBody[] = [];
  const ctx: RunnerContext = {
    plan: parseLine(LINE, DRIVES, '/lines/0'),
    link: port,
    book,
    clock,
    log,
    isBypassed: (s) => bypassed.has(s),
    bypass: (s, reason) => {
      bypassed.set(s, reason);
      book.append({ t: 'bypass', station: s, reason });
    },
    emit: (e) => events.push(e),
    setStep: () => {},
    resent: [],
  };
  return { path, clock, book, port, bypassed, events, ctx };
}

const ids = (p: ScriptedPort) => p.sent.map((s) => s.command.commandId);

describe('runCycle', () => {
  it('logs each intent durably before its command goes out, with deterministic commandIds', async () => {
    const { path, book, port, ctx } = setup();
    port.onSend = (cmd) => {
      const onDisk = parseLog(readFileSync(path, 'utf8')).records;
      expect(onDisk.some((r) => r.t === 'intent' && r.commandId === cmd.commandId)).toBe(true);
    };
    book.append({ t: 'cycle', cycle: 7, bypassed: [] });
    const out = await runCycle(ctx, 7, new AbortController().signal);
    expect(out.outcome).toBe('completed');
    expect(ids(port)).toEqual(['l1-7-0-a1', 'l1-7-1-a2', 'l1-7-1-a3', 'l1-7-2-a4', 'l1-7-3-a1']);
    // The payload: the step's action, and a deadline at the step's timeout.
    expect(port.sent[0]!.command).toEqual({
      commandId: 'l1-7-0-a1',
      type: 'moveTo',
      position: 100,
      deadline: 1_764_000_000_000 + 1000,
    });
    await book.drain(); // results are appended without waiting for the disk
    const results = parseLog(readFileSync(path, 'utf8')).records.filter((r) => r.t === 'result');
    expect(results).toHaveLength(5);
  });

  it('a failing part of a bypassable station takes the station out; the cycle goes on without it', async () => {
    const { book, port, bypassed, events, ctx } = setup();
    port.answer = (d) =>
      d === 'a2'
        ? {
            status: 'failed',
            source: 'drive',
            error: { code: 'DRIVE_UNREACHABLE', message: 'breaker open' },
          }
        : OK;
    book.append({ t: 'cycle', cycle: 1, bypassed: [] });
    expect((await runCycle(ctx, 1, new AbortController().signal)).outcome).toBe('completed');
    expect([...bypassed.keys()]).toEqual(['mark']);
    expect(bypassed.get('mark')).toContain('DRIVE_UNREACHABLE');
    const both = events.find((e) => e.stepId === 'both' && e.phase !== 'started');
    expect(both).toMatchObject({ phase: 'completed', error: { code: 'DRIVE_UNREACHABLE' } });
    // Next cycle: the station's parts are skipped, nothing is sent to a2.
    port.sent.length = 0;
    book.append({ t: 'cycle', cycle: 2, bypassed: ['mark'] });
    expect((await runCycle(ctx, 2, new AbortController().signal)).outcome).toBe('completed');
    expect(ids(port)).toEqual(['l1-2-0-a1', 'l1-2-1-a3', 'l1-2-2-a4', 'l1-2-3-a1']);
  });

  it('a failing part elsewhere abandons its siblings and fails the cycle; compensation runs newest step first', async () => {
    const { book, port, ctx } = setup();
    port.answer = (d, _c, o) => {
      if (d === 'a3')
        return {
          status: 'failed',
          source: 'drive',
          error: { code: 'DRIVE_FAULT', message: '0x7305' },
        };
      if (d === 'a2') {
        // Still moving: only the line giving up ends it.
        return new Promise<Final>((resolve) =>
          o.signal?.addEventListener('abort', () =>
            resolve({
              status: 'failed',
              source: 'line',
              error: { code: 'ABORTED', message: 'gave up' },
            }),
          ),
        );
      }
      return OK;
    };
    book.append({ t: 'cycle', cycle: 3, bypassed: [] });
    const out = await runCycle(ctx, 3, new AbortController().signal);
    expect(out).toEqual({
      outcome: 'failed',
      reason: 'step both: moveTo on a3: DRIVE_FAULT 0x7305',
    });
    expect(ids(port)).toEqual(['l1-3-0-a1', 'l1-3-1-a2', 'l1-3-1-a3']);

    port.sent.length = 0;
    port.answer = () => OK;
    book.append({ t: 'compensate', cycle: 3, reason: out.outcome, after: 'FAULTED' });
    const { failed } = await compensate(ctx, 3, new AbortController().signal);
    expect(failed).toEqual([]);
    // Step 1 (a2 abandoned mid-move, a3 failed: both may have moved), then step 0.
    expect(port.sent.map((s) => [s.command.commandId, s.command.type, s.driveId])).toEqual([
      ['l1-3-1-a2-comp', 'moveTo', 'a2'],
      ['l1-3-1-a3-comp', 'moveTo', 'a3'],
      ['l1-3-0-a1-comp', 'stop', 'a1'],
    ]);
  });

  it('replays after a restart: answered parts are not sent, in-flight ones are resent as they were, expired ones reissued', async () => {
    const first = setup();
    first.book.append({ t: 'state', state: 'RUNNING', reason: 'go' });
    first.book.append({ t: 'cycle', cycle: 5, bypassed: [] });
    // Crash during step 1: a2 and a3 sent, a3 answered, a2 not.
    first.port.answer = (d) => (d === 'a2' ? new Promise<Final>(() => {}) : OK);
    const dying = runCycle(first.ctx, 5, new AbortController().signal);
    for (let i = 0; i < 200 && first.port.sent.length < 3; i++) {
      await new Promise((r) => setTimeout(r, 5));
    }
    expect(ids(first.port)).toEqual(['l1-5-0-a1', 'l1-5-1-a2', 'l1-5-1-a3']);
    void dying;
    await first.book.close();

    // Restart on the same file.
    const again = setup(first.path);
    const open = again.book.summary.open!;
    expect(open.inFlight().map((r) => r.commandId)).toEqual(['l1-5-1-a2']);
    const original = first.port.sent[1]!.command;
    again.port.answer = (d, cmd) =>
      d === 'a2' && cmd.commandId === 'l1-5-1-a2'
        ? {
            status: 'expired',
            source: 'drive',
            error: { code: 'COMMAND_EXPIRED', message: 'late' },
          }
        : OK;
    again.clock.advance(5000);
    const out = await runCycle(again.ctx, 5, new AbortController().signal, true);
    expect(out.outcome).toBe('completed');
    // a1 and a3 not sent again; a2 resent byte for byte, then (expired: it never ran) reissued.
    expect(again.port.sent.map((s) => s.command.commandId)).toEqual([
      'l1-5-1-a2',
      'l1-5-1-a2-r1',
      'l1-5-2-a4',
      'l1-5-3-a1',
    ]);
    expect(again.port.sent[0]!.command).toEqual(original);
    expect(again.port.sent[1]!.command.deadline).toBe(1_764_000_005_000 + 5000);
    expect(again.ctx.resent).toEqual(['l1-5-1-a2']);
  });

  it('reissues an absolute move whose reply was lost on the wire (TIMEOUT: outcome unknown)', async () => {
    const { book, port, ctx, clock } = setup();
    let lost = 1;
    port.answer = (d) =>
      d === 'a4' && lost-- > 0
        ? {
            status: 'failed',
            source: 'drive',
            error: { code: 'TIMEOUT', message: 'no valid answer' },
          }
        : OK;
    book.append({ t: 'cycle', cycle: 9, bypassed: [] });
    let done = false;
    const out = runCycle(ctx, 9, new AbortController().signal).finally(() => {
      done = true;
    });
    // The re-issue waits 100 ms on the line's clock first.
    for (let i = 0; i < 100 && !done; i++) {
      await new Promise((r) => setTimeout(r, 2));
      clock.advance(20);
    }
    expect((await out).outcome).toBe('completed');
    expect(ids(port)).toEqual([
      'l1-9-0-a1',
      'l1-9-1-a2',
      'l1-9-1-a3',
      'l1-9-2-a4',
      'l1-9-2-a4-r1',
      'l1-9-3-a1',
    ]);
  });

  it('an estop cuts the cycle short without compensation', async () => {
    const { book, port, ctx } = setup();
    const abort = new AbortController();
    port.answer = (d, _c, o) => {
      if (d === 'a2') abort.abort({ kind: 'estop', message: 'estop e-1' });
      return o.signal?.aborted
        ? { status: 'failed', source: 'line', error: { code: 'ABORTED', message: 'estop' } }
        : OK;
    };
    book.append({ t: 'cycle', cycle: 2, bypassed: [] });
    expect(await runCycle(ctx, 2, abort.signal)).toEqual({
      outcome: 'aborted',
      reason: 'estop e-1',
    });
    expect(ids(port)).not.toContain('l1-2-2-a4');
  });
});
