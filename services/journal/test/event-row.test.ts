/** What the journal stores of an MQTT message, and what it refuses. */
import { describe, expect, it } from 'vitest';
import { topics } from '../../contract/src/index.ts';
import { MAX_EVENT_BYTES, toEventRow } from '../src/index.ts';

const t = topics('acme/plant1/servofleet');
const at = 1_764_000_000_500;
const buf = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v));

describe('toEventRow', () => {
  it('indexes a drive command event: ids from the topic, the whole event kept', () => {
    const e = {
      eventId: 'e-1',
      driveId: 'axis-1',
      ts: 1_764_000_000_000,
      type: 'command',
      commandId: 'c-1',
      commandType: 'enable',
      phase: 'received',
      extra: { added: 'in v1.1' },
    };
    const r = toEventRow(t, 'acme/plant1/servofleet/drives/axis-1/events', buf(e), at);
    expect(r).toEqual({
      ok: true,
      row: {
        eventId: 'e-1',
        ts: 1_764_000_000_000,
        driveId: 'axis-1',
        lineId: null,
        type: 'command',
        commandIds: ['c-1'],
        phase: 'received',
        topic: 'acme/plant1/servofleet/drives/axis-1/events',
        json: JSON.stringify(e),
        arrived: at,
      },
    });
  });

  it('takes the line id from a line topic, and a drive id from the event if it names one', () => {
    const r = toEventRow(
      t,
      'acme/plant1/servofleet/lines/line-1/events',
      buf({ eventId: 'l-1', ts: 5, type: 'stationBypassed', driveId: 'axis-4' }),
      at,
    );
    expect(r).toMatchObject({ ok: true, row: { lineId: 'line-1', driveId: 'axis-4' } });
  });

  it("indexes a line step under its commands, and an estop under each result's command", () => {
    const step = toEventRow(
      t,
      'acme/plant1/servofleet/lines/line-1/events',
      buf({ eventId: 's', ts: 1, type: 'step', phase: 'started', commandIds: ['a', 'b', 'a', 7] }),
      at,
    );
    expect(step).toMatchObject({ ok: true, row: { commandIds: ['a', 'b'], phase: 'started' } });
    const estop = toEventRow(
      t,
      'acme/plant1/servofleet/lines/line-1/events',
      buf({
        eventId: 'e',
        ts: 1,
        type: 'estop',
        results: [{ driveId: 'axis-1', commandId: 'q1' }, null, { commandId: 'q2' }],
      }),
      at,
    );
    expect(estop).toMatchObject({ ok: true, row: { commandIds: ['q1', 'q2'] } });
  });

  it.each([
    [
      'acme/plant1/servofleet/drives/axis-1/state',
      { eventId: 'x', ts: 1, type: 'state' },
      /not an events topic/,
    ],
    ['other/drives/axis-1/events', { eventId: 'x', ts: 1, type: 'state' }, /not an events topic/],
    ['acme/plant1/servofleet/drives/axis-1/events', 'not json', /not JSON/],
    ['acme/plant1/servofleet/drives/axis-1/events', [1, 2], /not a JSON object/],
    ['acme/plant1/servofleet/drives/axis-1/events', { ts: 1, type: 'state' }, /eventId/],
    [
      'acme/plant1/servofleet/drives/axis-1/events',
      { eventId: '', ts: 1, type: 'state' },
      /eventId/,
    ],
    ['acme/plant1/servofleet/drives/axis-1/events', { eventId: 'x', ts: 1.5, type: 'state' }, /ts/],
    ['acme/plant1/servofleet/drives/axis-1/events', { eventId: 'x', ts: '1', type: 'state' }, /ts/],
    ['acme/plant1/servofleet/drives/axis-1/events', { eventId: 'x', ts: 1 }, /type/],
  ])('refuses %s %j', (topic, payload, reason) => {
    const r = toEventRow(t, topic, buf(payload), at);
    expect(r.ok).toBe(false);
    expect(r.ok ? '' : r.reason).toMatch(reason);
  });

  it('refuses a payload over the size limit', () => {
    const big = { eventId: 'x', ts: 1, type: 'state', pad: 'p'.repeat(MAX_EVENT_BYTES) };
    const r = toEventRow(t, 'acme/plant1/servofleet/drives/axis-1/events', buf(big), at);
    expect(r).toMatchObject({ ok: false, reason: expect.stringMatching(/limit/) });
  });
});
