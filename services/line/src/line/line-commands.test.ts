/**
 * Line command intake against a stand-in controller: replies in the drive commands'
 * shape, idempotency by commandId, deadlines, estop ahead of everything else.
 */
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { LineCommand, LineReply, LineStateName } from '../../../contract/src/index.ts';
import { ManualClock } from '../../../runtime/src/index.ts';
import { LineCommands } from './line-commands.ts';
import type { LineController } from './line-controller.ts';
import { Stations } from './stations.ts';

function fakeController() {
  const calls: string[] = [];
  const c = {
    state: 'IDLE' as LineStateName,
    compensating: false,
    plan: { lineId: 'l1' },
    stations: new Stations([
      { id: 'feed', drives: ['a1'], bypassable: false },
      { id: 'mark', drives: ['a2'], bypassable: true },
    ]),
    async idle() {},
    async start(by: string) {
      calls.push(`start ${by}`);
      c.state = 'RUNNING';
      return { ok: true as const };
    },
    requestStop(by: string) {
      calls.push(`stop ${by}`);
      c.state = 'STOPPED';
    },
    resumeRunning() {},
    async whenState() {},
    async reset() {
      c.state = 'IDLE';
    },
    degraded: {
      async requestRejoin() {
        return { ok: true };
      },
    },
    async estop(by: string) {
      calls.push(`estop ${by}`);
      c.state = 'ESTOPPED';
      return [
        {
          driveId: 'a1',
          commandId: 'q1',
          final: { status: 'completed' as const, source: 'drive' as const },
        },
        {
          driveId: 'a2',
          commandId: 'q2',
          final: {
            status: 'failed' as const,
            source: 'drive' as const,
            error: { code: 'DRIVE_UNREACHABLE' as const, message: 'breaker open' },
          },
        },
      ];
    },
  };
  return { c, calls };
}

function setup(ready: Promise<void> = Promise.resolve()) {
  const { c, calls } = fakeController();
  const events: Record<string, unknown>[] = [];
  const clock = new ManualClock();
  const commands = new LineCommands({
    controller: c as unknown as LineController,
    clock,
    log: pino({ level: 'silent' }),
    out: { event: (e) => events.push(e), state: () => {} },
    ready,
  });
  const replies: LineReply[] = [];
  const submit = (cmd: LineCommand) => commands.submit(cmd, (r) => replies.push(r));
  return { c, calls, events, clock, replies, submit };
}

const settle = () => new Promise((r) => setTimeout(r, 0));

describe('LineCommands', () => {
  it('answers accepted then completed; a repeated commandId gets the same answer and runs once', async () => {
    const { calls, replies, submit, events } = setup();
    submit({ commandId: 'go-1', type: 'start' });
    submit({ commandId: 'go-1', type: 'start' });
    await settle();
    expect(calls).toEqual(['start start go-1']);
    // Both senders hear accepted, then the one final answer.
    expect(replies.map((r) => r.status)).toEqual([
      'accepted',
      'accepted',
      'completed',
      'completed',
    ]);
    expect(replies[2]).toEqual({
      commandId: 'go-1',
      status: 'completed',
      ts: 1_764_000_000_000,
      lineId: 'l1',
      type: 'start',
      state: 'RUNNING',
    });
    submit({ commandId: 'go-1', type: 'start' });
    expect(replies.at(-1)).toEqual(replies[2]);
    expect(events.map((e) => e.phase)).toEqual(['received', 'accepted', 'completed']);
  });

  it('answers a command past its deadline expired, and does not run it', async () => {
    const { calls, replies, submit } = setup();
    submit({ commandId: 'late', type: 'start', deadline: 1_763_999_999_000 });
    await settle();
    expect(calls).toEqual([]);
    expect(replies).toMatchObject([{ status: 'expired', error: { code: 'COMMAND_EXPIRED' } }]);
  });

  it('runs estop at once, even while other commands wait; start is refused while ESTOPPED', async () => {
    let ready!: () => void;
    const { calls, replies, submit } = setup(
      new Promise<void>((r) => {
        ready = r;
      }),
    );
    submit({ commandId: 's', type: 'stop' });
    submit({ commandId: 'e', type: 'estop' });
    await settle();
    expect(calls).toEqual(['estop estop e']);
    expect(replies.find((r) => r.commandId === 'e' && r.status !== 'accepted')).toMatchObject({
      status: 'failed',
      state: 'ESTOPPED',
      error: {
        code: 'DRIVE_UNREACHABLE',
        message: expect.stringContaining('a2 (DRIVE_UNREACHABLE: breaker open)'),
      },
    });
    ready();
    submit({ commandId: 'g', type: 'start' });
    await settle();
    expect(replies.find((r) => r.commandId === 'g')).toMatchObject({
      status: 'rejected',
      error: { code: 'INVALID_STATE', message: 'the line is ESTOPPED: send reset first' },
    });
    submit({ commandId: 'r', type: 'reset' });
    await settle();
    expect(replies.filter((r) => r.commandId === 'r').map((r) => [r.status, r.state])).toEqual([
      ['accepted', 'ESTOPPED'],
      ['completed', 'IDLE'],
    ]);
  });

  it('refuses a rejoin of an unknown or a non-bypassable station', async () => {
    const { replies, submit } = setup();
    submit({ commandId: 'j1', type: 'rejoin', station: 'paint' });
    submit({ commandId: 'j2', type: 'rejoin', station: 'feed' });
    await settle();
    expect(replies).toMatchObject([
      { commandId: 'j1', status: 'rejected', error: { code: 'NOT_FOUND', path: '/station' } },
      { commandId: 'j2', status: 'rejected', error: { code: 'BAD_REQUEST', path: '/station' } },
    ]);
  });
});
