import { appendFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { NewRecord } from './records.ts';
import { apply, emptySummary, SagaBook, summarize } from './saga-book.ts';
import { parseLog, SagaLog } from './saga-log.ts';

const wallNow = () => 1_764_000_000_000;
const tmp = () => join(mkdtempSync(join(tmpdir(), 'sf-saga-')), 'sub', 'saga.jsonl');

const intent = (
  cycle: number,
  step: number,
  drive: string,
  extra: Partial<NewRecord> = {},
): NewRecord =>
  ({
    t: 'intent',
    cycle,
    step,
    drive,
    to: drive,
    attempt: 0,
    comp: false,
    timeoutMs: 3000,
    commandId: `l-${cycle}-${step}-${drive}`,
    command: { commandId: `l-${cycle}-${step}-${drive}`, type: 'moveTo', position: 1 },
    compensate: { drive, action: { type: 'stop' } },
    ...extra,
  }) as NewRecord;

describe('SagaLog', () => {
  it('appends JSON lines with increasing seq, on disk when `durable` resolves, and reads them back', async () => {
    const path = tmp();
    const { log, read } = SagaLog.open(path, { wallNow });
    expect(read.records).toEqual([]);
    const a = log.append({ t: 'state', state: 'RUNNING', reason: 'start' });
    const b = log.append({ t: 'cycle', cycle: 1, bypassed: [] });
    expect([a.record.seq, b.record.seq]).toEqual([1, 2]);
    await b.durable;
    // On disk (written and fdatasync'ed, in order), without closing.
    const lines = readFileSync(path, 'utf8').trimEnd().split('\n');
    expect(lines.map((l) => JSON.parse(l))).toEqual([
      { v: 1, seq: 1, ts: wallNow(), t: 'state', state: 'RUNNING', reason: 'start' },
      { v: 1, seq: 2, ts: wallNow(), t: 'cycle', cycle: 1, bypassed: [] },
    ]);
    await log.close();
    const again = SagaLog.open(path, { wallNow });
    expect(again.read.records.map((r) => r.seq)).toEqual([1, 2]);
    expect(again.log.append({ t: 'cycle', cycle: 2, bypassed: [] }).record.seq).toBe(3);
    await again.log.close();
  });

  it('drops a torn last line (an interrupted write) and starts the next record on its own line', async () => {
    const path = tmp();
    const { log } = SagaLog.open(path, { wallNow });
    log.append({ t: 'cycle', cycle: 1, bypassed: [] });
    await log.close();
    appendFileSync(path, '{"v":1,"seq":2,"ts":1,"t":"inte');
    const { log: log2, read } = SagaLog.open(path, { wallNow });
    expect(read.tornTail).toBe(true);
    expect(read.records.map((r) => r.t)).toEqual(['cycle']);
    log2.append({ t: 'end', cycle: 1, outcome: 'completed', cyclesCompleted: 1, compensations: 0 });
    await log2.close();
    const after = parseLog(readFileSync(path, 'utf8'));
    expect(after.records.map((r) => r.t)).toEqual(['cycle', 'end']);
    expect(after.corrupt).toHaveLength(1); // the torn line, now followed by a newline
    expect(after.tornTail).toBe(false);
  });

  it('reports lines that are not records, and skips them', () => {
    const read = parseLog(
      '{"v":1,"seq":1,"ts":1,"t":"cycle","cycle":1,"bypassed":[]}\nnot json\n{"v":9}\n',
    );
    expect(read.records).toHaveLength(1);
    expect(read.corrupt.map((c) => c.line)).toEqual([2, 3]);
  });

  it('compacts to one snapshot at a boundary, keeping what the log says', async () => {
    const path = tmp();
    const { log } = SagaLog.open(path, { wallNow, compactAfter: 6 });
    const book = new SagaBook(log, emptySummary());
    book.append({ t: 'state', state: 'RUNNING', reason: 'go' });
    book.append({ t: 'bypass', station: 'label', reason: 'axis-4 unreachable' });
    book.append({ t: 'cycle', cycle: 1, bypassed: ['label'] });
    expect(await book.maybeCompact()).toBe(false); // a cycle is open: never then
    book.append(intent(1, 0, 'axis-1'));
    book.append({
      t: 'result',
      cycle: 1,
      step: 0,
      drive: 'axis-1',
      comp: false,
      commandId: 'l-1-0-axis-1',
      status: 'completed',
    });
    book.append({
      t: 'end',
      cycle: 1,
      outcome: 'completed',
      ms: 1500,
      cyclesCompleted: 1,
      compensations: 0,
    });
    expect(await book.maybeCompact()).toBe(true);
    await book.close();
    const read = parseLog(readFileSync(path, 'utf8'));
    expect(read.records).toHaveLength(1);
    expect(read.records[0]).toMatchObject({
      t: 'snapshot',
      seq: 7,
      state: 'RUNNING',
      cycle: 1,
      cyclesCompleted: 1,
      lastCycleMs: 1500,
      bypassed: [{ station: 'label', reason: 'axis-4 unreachable' }],
    });
    const s = summarize(read.records);
    expect(s).toMatchObject({ state: 'RUNNING', cycle: 1, cyclesCompleted: 1, open: undefined });
    expect([...s.bypassed.keys()]).toEqual(['label']);
  });
});

describe('the saga fold', () => {
  it('keeps the open cycle: in-flight intents, and what to compensate newest step first', () => {
    const s = emptySummary();
    let seq = 0;
    const add = (r: NewRecord) => apply(s, { v: 1, seq: ++seq, ts: 1000 + seq, ...r } as never);
    add({ t: 'cycle', cycle: 4, bypassed: [] });
    add(intent(4, 0, 'axis-1'));
    add({
      t: 'result',
      cycle: 4,
      step: 0,
      drive: 'axis-1',
      comp: false,
      commandId: 'l-4-0-axis-1',
      status: 'completed',
    });
    add(intent(4, 1, 'axis-2'));
    add(intent(4, 1, 'axis-3'));
    add(intent(4, 1, 'dxl-1', { compensate: null }));
    add({
      t: 'result',
      cycle: 4,
      step: 1,
      drive: 'axis-3',
      comp: false,
      commandId: 'l-4-1-axis-3',
      status: 'rejected',
    });
    const open = s.open!;
    expect(open.cycle).toBe(4);
    expect(open.lastStep).toBe(1);
    expect(open.inFlight().map((r) => r.commandId)).toEqual(['l-4-1-axis-2', 'l-4-1-dxl-1']);
    // axis-3 was rejected (never ran), dxl-1 has no compensation.
    expect(open.toCompensate().map((g) => [g.step, g.parts.map((p) => p.drive)])).toEqual([
      [1, ['axis-2']],
      [0, ['axis-1']],
    ]);
    // A later attempt replaces the earlier one.
    add(intent(4, 1, 'axis-3', { attempt: 1, commandId: 'l-4-1-axis-3-r1' }));
    expect(open.latestIntent(1, 'axis-3', false)?.commandId).toBe('l-4-1-axis-3-r1');
    add({ t: 'end', cycle: 4, outcome: 'aborted', cyclesCompleted: 3, compensations: 0 });
    expect(s.open).toBeUndefined();
    expect(s.cyclesCompleted).toBe(3);
  });
});
