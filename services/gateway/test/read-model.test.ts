/**
 * The read model against message orders a broker can produce: a retained message that
 * reaches the gateway after a newer live one (subscribing while the drive updates), a
 * last will whose `ts` is from when the drive's session began, availability learnt
 * from the drive's events.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { flush, type TestGateway, testGateway } from './helpers.ts';

describe('read model ordering', () => {
  let g: TestGateway;
  afterEach(async () => {
    await g?.close();
  });

  const availability = async (id: string) =>
    (await g.app.inject({ url: `/api/v1/drives/${id}`, headers: g.auth('viewer') })).json()
      .availability;

  const deliver = (topic: string, json: unknown, retained: boolean) => {
    g.gatewayMqtt.deliverIfSubscribed(
      {
        from: 'test',
        topic,
        payload: Buffer.from(JSON.stringify(json)),
        json: json as Record<string, unknown>,
        retain: retained,
        properties: undefined,
      },
      retained,
    );
  };

  it('a retained availability older than a live one does not undo it', async () => {
    g = await testGateway();
    const t = Date.now();
    deliver('servofleet/drives/axis-1/availability', { status: 'online', ts: t + 10 }, false);
    deliver(
      'servofleet/drives/axis-1/availability',
      { status: 'unreachable', ts: t + 5, reason: 'starting' },
      true,
    );
    await flush();
    expect(await availability('axis-1')).toMatchObject({ status: 'online', ts: t + 10 });
    // A newer retained one (after a broker restart, say) is taken.
    deliver('servofleet/drives/axis-1/availability', { status: 'unreachable', ts: t + 20 }, true);
    await flush();
    expect(await availability('axis-1')).toMatchObject({ status: 'unreachable', ts: t + 20 });
  });

  it('a last will counts although its ts is old: it comes live', async () => {
    g = await testGateway();
    const t = Date.now();
    deliver('servofleet/drives/axis-2/availability', { status: 'online', ts: t + 100 }, false);
    deliver(
      'servofleet/drives/axis-2/availability',
      { status: 'offline', ts: t, reason: 'last will' },
      false,
    );
    await flush();
    expect(await availability('axis-2')).toMatchObject({ status: 'offline', reason: 'last will' });
    const r = await g.app.inject({
      method: 'POST',
      url: '/api/v1/drives/axis-2/commands',
      headers: g.auth('operator'),
      payload: { type: 'enable' },
    });
    expect(r.statusCode).toBe(503);
  });

  it('availability events fill in when the availability topic said otherwise', async () => {
    g = await testGateway();
    const t = Date.now() + 1000;
    deliver(
      'servofleet/drives/axis-3/availability',
      { status: 'unreachable', ts: t, reason: 'starting' },
      true,
    );
    await flush();
    await g.device.event('axis-3', {
      type: 'availability',
      status: 'online',
      reason: 'answering',
      ts: t + 1,
    });
    await flush();
    expect(await availability('axis-3')).toMatchObject({ status: 'online', reason: 'answering' });
  });
});
