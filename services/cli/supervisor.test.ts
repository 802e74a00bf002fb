/**
 * The supervisor on a manual clock with fake children: restarts with growing delays,
 * backoff reset after a stable run, tiered stop with SIGKILL after the deadline, and
 * what it prints.
 */
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../runtime/src/index.ts';
import {
  type ChildHandle,
  type PartSpec,
  restartDelay,
  Supervisor,
  type SupervisorEvent,
} from './supervisor.ts';
import { formatChildLine, formatEvent, LineSplitter } from './supervisor-output.ts';

class FakeChild implements ChildHandle {
  readonly stdout = new PassThrough();
  readonly stderr = new PassThrough();
  readonly signals: NodeJS.Signals[] = [];
  #cbs: ((code: number | null, signal: NodeJS.Signals | null) => void)[] = [];
  #exited = false;

  constructor(
    readonly pid: number,
    readonly spec: PartSpec,
    /** Exit on SIGTERM (true) or only on SIGKILL (false). */
    readonly obeysSigterm = true,
  ) {}

  signal(signal: NodeJS.Signals): void {
    this.signals.push(signal);
    if (signal === 'SIGKILL' || this.obeysSigterm) this.exit(null, signal);
  }

  onExit(cb: (code: number | null, signal: NodeJS.Signals | null) => void): void {
    this.#cbs.push(cb);
  }

  exit(code: number | null, signal: NodeJS.Signals | null = null): void {
    if (this.#exited) return;
    this.#exited = true;
    for (const cb of this.#cbs) cb(code, signal);
  }

  get alive(): boolean {
    return !this.#exited;
  }
}

function setup(opts: { obeysSigterm?: (name: string) => boolean } = {}) {
  const clock = new ManualClock();
  const events: SupervisorEvent[] = [];
  const children: FakeChild[] = [];
  let nextPid = 100;
  const sup = new Supervisor({
    clock,
    report: (e) => events.push(e),
    stopTimeoutMs: 5000,
    spawn: (spec) => {
      const c = new FakeChild(nextPid++, spec, opts.obeysSigterm?.(spec.name) ?? true);
      children.push(c);
      return c;
    },
  });
  const of = (name: string) => children.filter((c) => c.spec.name === name);
  return { clock, events, children, sup, of };
}

const part = (name: string, tier = 1): PartSpec => ({ name, command: 'node', args: [name], tier });

describe('Supervisor', () => {
  it('restarts a part that keeps exiting with growing delays, capped at 30 s', () => {
    const { clock, events, sup, of } = setup();
    sup.start(part('device bus-a'));
    const delays: number[] = [];
    for (let i = 0; i < 9; i++) {
      of('device bus-a').at(-1)!.exit(2);
      const e = events.at(-1)!;
      expect(e.type).toBe('exited');
      const delay = (e as { restartInMs: number }).restartInMs;
      delays.push(delay);
      clock.advance(delay - 1);
      expect(of('device bus-a')).toHaveLength(i + 1);
      clock.advance(1);
      expect(of('device bus-a')).toHaveLength(i + 2);
    }
    expect(delays).toEqual([500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
    expect(events.filter((e) => e.type === 'started').map((e) => e.restarts)).toEqual([
      0, 1, 2, 3, 4, 5, 6, 7, 8, 9,
    ]);
  });

  it('starts again from the initial delay after a part has run stably', () => {
    const { clock, events, sup, of } = setup();
    sup.start(part('sim'));
    for (const _ of [1, 2, 3]) {
      of('sim').at(-1)!.exit(1);
      clock.advance((events.at(-1) as { restartInMs: number }).restartInMs);
    }
    expect((events.at(-2) as { restartInMs: number }).restartInMs).toBe(2000);
    clock.advance(10_000); // runs stably
    of('sim').at(-1)!.exit(1);
    expect(events.at(-1)).toMatchObject({ type: 'exited', uptimeMs: 10_000, restartInMs: 500 });
  });

  it('stops tier by tier, highest first, and restarts nothing afterwards', async () => {
    const { clock, events, sup, of, children } = setup();
    sup.start(part('broker', 0));
    sup.start(part('sim', 1));
    sup.start(part('device bus-a', 2));
    sup.start(part('device bus-b', 2));
    of('device bus-b')[0]!.exit(2); // crashed, waiting for its restart
    await sup.stop();
    const stopping = events.filter((e) => e.type === 'stopping').map((e) => e.part);
    expect(stopping).toEqual(['device bus-a', 'sim', 'broker']);
    expect(children.every((c) => !c.alive)).toBe(true);
    expect(events.at(-1)).toMatchObject({ type: 'exited', part: 'broker', restartInMs: null });
    clock.advance(60_000);
    expect(children).toHaveLength(4);
    expect(sup.status().map((s) => s.state)).toEqual(['stopped', 'stopped', 'stopped', 'stopped']);
    expect(() => sup.start(part('late'))).toThrow(/stopping/);
  });

  it('sends SIGKILL to a part that ignores SIGTERM past the stop deadline', async () => {
    const { clock, events, sup, of } = setup({ obeysSigterm: (n) => n !== 'stubborn' });
    sup.start(part('stubborn'));
    sup.start(part('polite'));
    const stopped = sup.stop();
    await Promise.resolve();
    expect(of('polite')[0]!.alive).toBe(false);
    expect(of('stubborn')[0]!.signals).toEqual(['SIGTERM']);
    clock.advance(4999);
    expect(of('stubborn')[0]!.alive).toBe(true);
    clock.advance(1);
    await stopped;
    expect(of('stubborn')[0]!.signals).toEqual(['SIGTERM', 'SIGKILL']);
    expect(events.filter((e) => e.type === 'stopping').map((e) => [e.part, e.signal])).toEqual([
      ['stubborn', 'SIGTERM'],
      ['polite', 'SIGTERM'],
      ['stubborn', 'SIGKILL'],
    ]);
  });

  it('kill() sends SIGKILL to everything at once, and the stop sends no more SIGTERMs', async () => {
    const { sup, children } = setup({ obeysSigterm: () => false });
    sup.start(part('broker', 0));
    sup.start(part('a'));
    sup.start(part('b'));
    const stopped = sup.stop();
    sup.kill();
    await stopped;
    expect(children.map((c) => [c.spec.name, c.signals])).toEqual([
      ['broker', ['SIGKILL']],
      ['a', ['SIGTERM', 'SIGKILL']],
      ['b', ['SIGTERM', 'SIGKILL']],
    ]);
  });

  it('reports output line by line, including a last unterminated line at exit', () => {
    const { events, sup, of } = setup();
    sup.start(part('sim'));
    const c = of('sim')[0]!;
    c.stdout.write('{"level":30,"msg":"one"}\n{"level":30,');
    c.stdout.write('"msg":"two"}\npartial');
    c.stderr.write('oops\n');
    c.exit(1);
    expect(events.filter((e) => e.type === 'output').map((e) => [e.stream, e.line])).toEqual([
      ['stdout', '{"level":30,"msg":"one"}'],
      ['stdout', '{"level":30,"msg":"two"}'],
      ['stderr', 'oops'],
      ['stdout', 'partial'],
    ]);
  });

  it('treats a spawn that throws like a crash', () => {
    const clock = new ManualClock();
    const events: SupervisorEvent[] = [];
    let calls = 0;
    const sup = new Supervisor({
      clock,
      report: (e) => events.push(e),
      spawn: () => {
        calls++;
        throw new Error('spawn ENOENT');
      },
    });
    sup.start(part('ghost'));
    expect(events).toEqual([
      {
        type: 'exited',
        part: 'ghost',
        pid: undefined,
        code: null,
        signal: null,
        error: 'spawn ENOENT',
        uptimeMs: 0,
        restartInMs: 500,
      },
    ]);
    clock.advance(500);
    expect(calls).toBe(2);
  });

  it('restartDelay doubles from 500 ms to a 30 s cap', () => {
    expect([0, 1, 5, 6, 7, 40].map((n) => restartDelay(n))).toEqual([
      500, 1000, 16000, 30000, 30000, 30000,
    ]);
  });
});

describe('supervisor output', () => {
  const o = { now: () => 0, time: () => 'T' };

  it('prints pino lines human-readable: time, level from warn up, msg, a few fields', () => {
    const info = JSON.stringify({
      level: 30,
      time: 5,
      pid: 1,
      hostname: 'h',
      service: 'sim',
      name: 'sim',
      link: 'bus-a',
      address: 'tcp://127.0.0.1:4001',
      drives: ['axis-1', 'axis-2'],
      msg: 'link bus-a listening on tcp://127.0.0.1:4001',
    });
    expect(formatChildLine('sim', info, { ...o, time: (ms) => `t${ms}` })).toBe(
      't5 [sim] link bus-a listening on tcp://127.0.0.1:4001  link=bus-a address=tcp://127.0.0.1:4001 drives=["axis-1","axis-2"]',
    );
    const warn = JSON.stringify({
      level: 40,
      time: 5,
      msg: 'drive not answering',
      driveId: 'axis-3',
      err: {
        type: 'Error',
        message: 'timed out after 50 ms',
        code: 'DRIVE_UNREACHABLE',
        stack: 's',
      },
    });
    expect(formatChildLine('device bus-a', warn, o)).toBe(
      'T [device bus-a] WARN drive not answering  driveId=axis-3 err="DRIVE_UNREACHABLE: timed out after 50 ms"',
    );
    expect(formatChildLine('x', JSON.stringify({ level: 60, msg: 'boom' }), o)).toBe(
      'T [x] FATAL boom',
    );
  });

  it('passes other lines through, prefixed', () => {
    expect(formatChildLine('device bus-a', "servofleet: unknown command 'device'", o)).toBe(
      "T [device bus-a] servofleet: unknown command 'device'",
    );
    expect(formatChildLine('sim', '{not json', o)).toBe('T [sim] {not json');
  });

  it('prints supervisor events', () => {
    expect(formatEvent({ type: 'started', part: 'sim', pid: 42, restarts: 0 }, o)).toBe(
      'T [up] started sim (pid 42)',
    );
    expect(formatEvent({ type: 'started', part: 'sim', pid: 43, restarts: 2 }, o)).toBe(
      'T [up] restarted sim (pid 43, restart 2)',
    );
    expect(
      formatEvent(
        {
          type: 'exited',
          part: 'device bus-a',
          pid: 42,
          code: 2,
          signal: null,
          uptimeMs: 400,
          restartInMs: 2000,
        },
        o,
      ),
    ).toBe('T [up] WARN device bus-a exited with code 2 after 0.4 s; restarting in 2.0 s');
    expect(
      formatEvent(
        {
          type: 'exited',
          part: 'sim',
          pid: 42,
          code: null,
          signal: 'SIGTERM',
          uptimeMs: 65_000,
          restartInMs: null,
        },
        o,
      ),
    ).toBe('T [up] sim was killed by SIGTERM after 65 s');
  });

  it('LineSplitter keeps multi-byte characters split across chunks, and bounds line length', () => {
    const s = new LineSplitter(8);
    const bytes = Buffer.from('°C ok\n');
    expect(s.feed(bytes.subarray(0, 1))).toEqual([]);
    expect(s.feed(bytes.subarray(1))).toEqual(['°C ok']);
    expect(s.feed('0123456789abc')).toEqual(['01234567']);
    expect(s.feed('\r\n')).toEqual(['89abc']);
    expect(s.flush()).toEqual([]);
  });
});
