/**
 * A DriveService with the process's shared data session: what rides it (state,
 * telemetry, events, replies) and what waits while it is away — the latest state is
 * republished and the events kept (bounded, oldest dropped) go out in order when it is
 * back; telemetry is dropped. The drive's own session carries none of it. Stub
 * sessions, no broker.
 */
import { describe, expect, it } from 'vitest';
import { stubDrive } from './stub-session.ts';

function drive(offlineBuffer?: number) {
  return stubDrive({ dataConnected: false, ...(offlineBuffer ? { offlineBuffer } : {}) });
}

const POLL = { torqueEnable: 1, presentPosition: 100, hardwareErrorStatus: 0 };

describe('DriveService with a shared data session', () => {
  it('keeps events while the data session is away and sends them, after the latest state, when it is back', () => {
    const { svc, own, data, clock } = drive();
    svc.onAvailability('online', 'answering');
    svc.onPoll({ ...POLL }, 1000);
    svc.onBreaker('open');
    expect(data.sent).toEqual([]);

    data.s.connected = true;
    svc.onDataSessionConnect();
    expect(data.sent.map((m) => [m.topic, m.qos, m.retain])).toEqual([
      ['sf/drives/d1/state', 1, true],
      ['sf/drives/d1/events', 1, false],
      ['sf/drives/d1/events', 1, false],
      ['sf/drives/d1/events', 1, false],
    ]);
    // In the order they happened: online, the first CiA 402 state seen, the breaker.
    expect(data.sent.slice(1).map((m) => m.body.type)).toEqual([
      'availability',
      'state',
      'breaker',
    ]);
    // Nothing of it on the drive's own session.
    expect(own.sent.filter((m) => /state|events|telemetry/.test(m.topic))).toEqual([]);

    // Connected: telemetry at every poll, state on a change (the first one after a
    // quiet spell at once), both on the data session.
    clock.advance(1000);
    const n = data.sent.length;
    svc.onPoll({ ...POLL, presentPosition: 200 }, 1050);
    expect(data.sent.slice(n).map((m) => [m.topic, m.qos])).toEqual([
      ['sf/drives/d1/telemetry', 0],
      ['sf/drives/d1/state', 1],
    ]);
    expect(data.sent.at(-1)!.body.position).toBe(data.sent.at(-2)!.body.position);
  });

  it('keeps at most offlineBuffer events, the oldest dropped, and no telemetry', () => {
    const { svc, data } = drive(2);
    for (const r of ['a', 'b', 'c']) svc.onAvailability('online', r);
    svc.onPoll({ ...POLL }, 1000);
    data.s.connected = true;
    svc.onDataSessionConnect();
    const events = data.sent.filter((m) => m.topic.endsWith('/events'));
    // Four events happened (three availability changes, the first state): two kept, the newest.
    expect(
      events.map((m) => (m.body.type === 'availability' ? m.body.reason : m.body.type)),
    ).toEqual(['c', 'state']);
    expect(svc.counters.droppedWhileOffline).toBe(2);
    expect(data.sent.some((m) => m.topic.endsWith('/telemetry'))).toBe(false);
  });
});
