/**
 * The bus scheduler's lanes: stop and quick stop first, then commands, then polls; but
 * a poll that has waited a whole poll period goes before the commands queued after
 * that, so that a flood of commands on a slow link cannot starve the polls (and with
 * them the drive's state). Manual clock; each job "takes the wire" for 10 ms.
 */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../runtime/src/index.ts';
import { LineGuard } from '../../src/bus/line-guard.ts';
import { type Job, type Lane, Scheduler } from '../../src/bus/scheduler.ts';

function rig() {
  const clock = new ManualClock();
  const scheduler = new Scheduler(clock, new LineGuard(clock));
  const ran: string[] = [];
  const job = (name: string, lane: Lane, extra: Partial<Job> = {}): Job => ({
    lane,
    drop: () => ran.push(`dropped ${name}`),
    run: async () => {
      ran.push(name);
      clock.advance(10);
    },
    ...extra,
  });
  const settle = () => new Promise((r) => setImmediate(r));
  return { clock, scheduler, ran, job, settle };
}

describe('Scheduler lanes', () => {
  it('runs stop before commands and commands before a queued poll cycle', async () => {
    const { scheduler, ran, job, settle } = rig();
    scheduler.push(job('poll 1', 'poll', { dueAt: 1000 }));
    scheduler.push(job('poll 2', 'poll', { dueAt: 1000 }));
    scheduler.push(job('poll 3', 'poll', { dueAt: 1000 }));
    scheduler.push(job('move', 'normal'));
    scheduler.push(job('quick stop', 'high'));
    await settle();
    expect(ran).toEqual(['quick stop', 'move', 'poll 1', 'poll 2', 'poll 3']);
  });

  it('lets a poll that waited a period go before the commands of a flood queued after that', async () => {
    const { clock, scheduler, ran, job, settle } = rig();
    // A command flood: every command on the wire queues the next two.
    let n = 0;
    const command = (): Job => {
      const queuedAt = clock.now();
      return job(`cmd ${n++}`, 'normal', {
        run: async () => {
          ran.push(`cmd queued at ${queuedAt}`);
          clock.advance(10);
          if (n < 40) {
            scheduler.push(command());
            scheduler.push(command());
          }
        },
      });
    };
    scheduler.push(command());
    scheduler.push(job('poll', 'poll', { dueAt: clock.now() + 50 }));
    await settle();
    const at = ran.indexOf('poll');
    expect(at).toBeGreaterThan(0);
    // Only commands queued by the time it fell due went first; all of them did run.
    const queued = (r: string) => Number(r.split(' ').at(-1));
    expect(ran.slice(0, at).every((r) => queued(r) <= 50)).toBe(true);
    expect(ran.slice(at + 1).every((r) => queued(r) > 50)).toBe(true);
    expect(ran.filter((r) => r.startsWith('cmd'))).toHaveLength(n);
    expect(n).toBeGreaterThanOrEqual(40);
  });

  it('does not let overdue polls starve commands on a link with more polls than wire time', async () => {
    const { clock, scheduler, ran, job, settle } = rig();
    let queuedAt = -1;
    // Four polls always queued and always overdue: each one queues itself again; at the
    // 20th transaction a command comes.
    const poll = (name: string): Job =>
      job(name, 'poll', {
        dueAt: clock.now() - 1,
        run: async () => {
          ran.push(name);
          clock.advance(10);
          if (ran.length === 20) {
            queuedAt = ran.length;
            scheduler.push(job('read', 'normal'));
          }
          if (ran.length < 60) scheduler.push(poll(name));
        },
      });
    for (const p of ['p1', 'p2', 'p3', 'p4']) scheduler.push(poll(p));
    await settle();
    // Behind at most the polls that fell due before it was queued: one per drive.
    const at = ran.indexOf('read');
    expect(queuedAt).toBe(20);
    expect(at).toBeGreaterThanOrEqual(queuedAt);
    expect(at).toBeLessThanOrEqual(queuedAt + 4);
  });
});
