/**
 * DriveLink against a recording MQTT stand-in and a manual clock: what it publishes,
 * how replies end a wait, and the line's own verdicts (timeout, drive down, abort).
 */
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { topics } from '../../../contract/src/index.ts';
import { ManualClock } from '../../../runtime/src/index.ts';
import { DriveLink } from './drive-link.ts';

const REPLY = 'servofleet/lines/l1/replies/x';

function setup() {
  const published: { topic: string; value: Record<string, unknown> }[] = [];
  const mqtt = {
    publishJson: async (topic: string, value: unknown) => {
      published.push({ topic, value: value as Record<string, unknown> });
      return true;
    },
    subscribe: async () => {},
  };
  const clock = new ManualClock();
  const link = new DriveLink({
    mqtt,
    topics: topics('servofleet'),
    drives: ['a1', 'a2'],
    replyTopic: REPLY,
    clock,
    log: pino({ level: 'silent' }),
  });
  const feed = (topic: string, value: unknown) =>
    link.handle(topic, Buffer.from(JSON.stringify(value)));
  feed('servofleet/drives/a1/availability', { status: 'online', ts: 1 });
  feed('servofleet/drives/a2/availability', { status: 'online', ts: 1 });
  return { published, clock, link, feed };
}

const flush = () => new Promise((r) => setImmediate(r));

describe('DriveLink', () => {
  it('publishes the command with replyTo and resolves on the final reply (accepted is not final)', async () => {
    const { published, link, feed } = setup();
    const p = link.send(
      'a1',
      { commandId: 'c-1', type: 'moveTo', position: 5 },
      { timeoutMs: 1000 },
    );
    expect(published).toEqual([
      {
        topic: 'servofleet/drives/a1/commands',
        value: { commandId: 'c-1', type: 'moveTo', position: 5, replyTo: REPLY },
      },
    ]);
    expect(link.filters()).toEqual([
      REPLY,
      'servofleet/drives/a1/availability',
      'servofleet/drives/a1/state',
      'servofleet/drives/a1/events',
      'servofleet/drives/a2/availability',
      'servofleet/drives/a2/state',
      'servofleet/drives/a2/events',
    ]);
    feed(REPLY, { commandId: 'c-1', status: 'accepted', ts: 2 });
    feed(REPLY, { commandId: 'other', status: 'completed', ts: 2 });
    let settled = false;
    void p.then(() => {
      settled = true;
    });
    await flush();
    expect(settled).toBe(false);
    feed(REPLY, {
      commandId: 'c-1',
      status: 'failed',
      ts: 3,
      error: { code: 'DRIVE_FAULT', message: 'x' },
    });
    expect(await p).toEqual({
      status: 'failed',
      source: 'drive',
      ts: 3,
      error: { code: 'DRIVE_FAULT', message: 'x' },
    });
  });

  it('gives up with TIMEOUT when no final answer comes in time', async () => {
    const { clock, link } = setup();
    const p = link.send('a1', { commandId: 'c-2', type: 'stop' }, { timeoutMs: 500 });
    clock.advance(499);
    clock.advance(1);
    expect(await p).toMatchObject({ status: 'failed', source: 'line', error: { code: 'TIMEOUT' } });
  });

  it('fails a wait when the drive turns unreachable or its breaker opens; estop-style sends go out anyway', async () => {
    const { published, link, feed } = setup();
    const changes: string[] = [];
    link.onChange((d, v) => changes.push(`${d}:${v.availability}/${v.breaker}`));
    const waiting = link.send(
      'a1',
      { commandId: 'c-3', type: 'moveTo', position: 1 },
      { timeoutMs: 5000 },
    );
    feed('servofleet/drives/a1/availability', {
      status: 'unreachable',
      ts: 2,
      reason: 'breaker open',
    });
    expect(await waiting).toMatchObject({
      status: 'failed',
      source: 'line',
      error: {
        code: 'DRIVE_UNREACHABLE',
        message: 'a1 went unreachable (breaker open) while the line waited: outcome unknown',
      },
    });
    expect(link.isDown('a1')).toBe(true);
    // Known down: a cycle command is not sent at all …
    expect(
      await link.send('a1', { commandId: 'c-4', type: 'moveTo', position: 1 }, { timeoutMs: 5000 }),
    ).toMatchObject({
      error: { code: 'DRIVE_UNREACHABLE', message: 'a1 is unreachable (breaker open): not sent' },
    });
    // … a quickStop is, and waits for the device's answer.
    const before = published.length;
    const q = link.send(
      'a1',
      { commandId: 'c-5', type: 'quickStop' },
      { timeoutMs: 5000, failWhenDown: false },
    );
    expect(published.length).toBe(before + 1);
    feed(REPLY, {
      commandId: 'c-5',
      status: 'failed',
      ts: 3,
      error: { code: 'DRIVE_UNREACHABLE', message: 'nothing sent' },
    });
    expect(await q).toMatchObject({ source: 'drive', error: { code: 'DRIVE_UNREACHABLE' } });
    // A breaker event alone marks a drive down, and online brings it back.
    feed('servofleet/drives/a2/events', {
      type: 'breaker',
      state: 'open',
      eventId: 'e',
      driveId: 'a2',
      ts: 4,
    });
    expect(link.isDown('a2')).toBe(true);
    feed('servofleet/drives/a1/availability', { status: 'online', ts: 5 });
    expect(link.isUp('a1')).toBe(true);
    expect(changes).toEqual(['a1:unreachable/closed', 'a2:online/open', 'a1:online/closed']);
  });

  it('ends a wait with ABORTED when the line gives up, and waits for a state', async () => {
    const { clock, link, feed } = setup();
    const abort = new AbortController();
    const p = link.send(
      'a2',
      { commandId: 'c-6', type: 'moveTo', position: 1 },
      { timeoutMs: 5000, signal: abort.signal },
    );
    abort.abort('estop');
    expect(await p).toMatchObject({
      source: 'line',
      error: { code: 'ABORTED', message: 'the line stopped waiting: estop' },
    });

    const w = link.waitForState('a2', (s) => s.position > 100, 1000);
    feed('servofleet/drives/a2/state', { driveId: 'a2', position: 50 });
    feed('servofleet/drives/a2/state', { driveId: 'a2', position: 150 });
    expect(await w).toBe('ok');
    const t = link.waitForState('a2', (s) => s.position > 1000, 1000);
    clock.advance(1000);
    expect(await t).toBe('timeout');
  });
});
