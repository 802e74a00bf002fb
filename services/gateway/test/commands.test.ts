/**
 * `POST /api/v1/drives/{id}/commands` and `GET /api/v1/commands/{id}` against the
 * in-memory broker and a fake device service: every status code reached on purpose,
 * what is (and is not) published, idempotent retries, breaker, bulkhead, timeout.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { eventually } from '../../runtime/test/helpers.ts';
import { flush, type TestGateway, testGateway } from './helpers.ts';

const CMDS = 'servofleet/drives/+/commands';

describe('commands over HTTP', () => {
  let g: TestGateway;
  afterEach(async () => {
    await g?.close();
  });

  const post = (
    id: string,
    payload: unknown,
    query = '',
    role: 'viewer' | 'operator' | 'admin' = 'operator',
  ) =>
    g.app.inject({
      method: 'POST',
      url: `/api/v1/drives/${id}/commands${query}`,
      headers: { ...g.auth(role), 'content-type': 'application/json' },
      payload: typeof payload === 'string' ? payload : JSON.stringify(payload),
    });

  it('200 completed over MQTT 5: response topic and correlation data, no replyTo in the payload', async () => {
    g = await testGateway({ protocol: 5 });
    const r = await post('axis-1', { type: 'enable', commandId: 'c-5' });
    expect(r.statusCode).toBe(200);
    expect(r.json()).toEqual({
      commandId: 'c-5',
      status: 'completed',
      ts: expect.any(Number),
      driveId: 'axis-1',
      type: 'enable',
    });
    const [sent] = g.broker.sent('servofleet/drives/axis-1/commands');
    expect(sent!.json).toMatchObject({
      commandId: 'c-5',
      type: 'enable',
      deadline: expect.any(Number),
    });
    expect(sent!.json).not.toHaveProperty('replyTo');
    expect(sent!.properties).toMatchObject({
      responseTopic: 'servofleet/gateway/test/replies',
      correlationData: Buffer.from('c-5'),
    });
  });

  it('200 completed over MQTT 3.1.1: replyTo is the instance reply topic; a commandId is made up', async () => {
    g = await testGateway({ protocol: 4 });
    const r = await post('axis-2', { type: 'disable' });
    expect(r.statusCode).toBe(200);
    const id = r.json().commandId as string;
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    const [sent] = g.broker.sent('servofleet/drives/axis-2/commands');
    expect(sent!.json).toMatchObject({ commandId: id, replyTo: 'servofleet/gateway/test/replies' });
    expect(sent!.properties).toBeUndefined();
  });

  it('202 with ?wait=accepted for a long command; GET /commands follows it to completed', async () => {
    g = await testGateway();
    g.device.behaviour.set('axis-1', () => ({ accepted: true, after: 'hold' }));
    const r = await post(
      'axis-1',
      { type: 'moveTo', position: 500, commandId: 'mv-1' },
      '?wait=accepted',
    );
    expect(r.statusCode).toBe(202);
    expect(r.json()).toMatchObject({ commandId: 'mv-1', status: 'accepted', driveId: 'axis-1' });
    const viewer = g.auth('viewer');
    const during = await g.app.inject({ url: '/api/v1/commands/mv-1', headers: viewer });
    expect(during.json()).toMatchObject({ status: 'accepted', final: false, type: 'moveTo' });
    g.device.release('mv-1');
    await flush();
    const after = await g.app.inject({ url: '/api/v1/commands/mv-1', headers: viewer });
    expect(after.statusCode).toBe(200);
    expect(after.json()).toMatchObject({
      commandId: 'mv-1',
      driveId: 'axis-1',
      status: 'completed',
      final: true,
    });
  });

  it('a retry with the same commandId is executed once and answered with the first result', async () => {
    g = await testGateway();
    const body = { type: 'moveTo', position: 100, relative: true, commandId: 'rel-1' };
    const first = await post('axis-1', body);
    const second = await post('axis-1', body);
    expect(first.statusCode).toBe(200);
    expect(second.statusCode).toBe(200);
    expect(second.json()).toMatchObject({
      commandId: 'rel-1',
      status: 'completed',
      replayed: true,
    });
    expect(g.device.executed.filter((c) => c.commandId === 'rel-1')).toHaveLength(1);
    expect(g.broker.sent(CMDS).filter((p) => p.json?.commandId === 'rel-1')).toHaveLength(1);
  });

  it('a retry while the first request still waits joins it: one publish, both answered', async () => {
    g = await testGateway();
    g.device.behaviour.set('axis-3', () => 'hold');
    const body = { type: 'enable', commandId: 'dup-1' };
    const a = post('axis-3', body);
    await eventually(() => g.device.held().includes('dup-1'), 'dup-1 held');
    const b = post('axis-3', body);
    await flush();
    g.device.release('dup-1');
    const [ra, rb] = await Promise.all([a, b]);
    expect(ra.statusCode).toBe(200);
    expect(rb.statusCode).toBe(200);
    expect(g.broker.sent(CMDS).filter((p) => p.json?.commandId === 'dup-1')).toHaveLength(1);
    expect(g.device.executed.filter((c) => c.commandId === 'dup-1')).toHaveLength(1);
  });

  it.each([
    ['a wrong type', { type: 'moveTo', position: 'far' }, '/position'],
    ['a number as a string (no coercion)', { type: 'moveTo', position: '12' }, '/position'],
    ['an unknown field', { type: 'moveTo', position: 1, colour: 'red' }, '/colour'],
    ['replyTo (the gateway has its own)', { type: 'stop', replyTo: 'x/y' }, '/replyTo'],
    ['an unknown type', { type: 'fly' }, '/type'],
    ['no type', { position: 1 }, '/type'],
    ['a missing parameter', { type: 'jog' }, '/velocity'],
    ['a bad mode', { type: 'setMode', mode: 'FAST' }, '/mode'],
    ['an array', [{ type: 'stop' }], '/'],
  ])('400 BAD_REQUEST for %s, with the path, and nothing published', async (_what, body, path) => {
    g = await testGateway();
    const r = await post('axis-1', body);
    expect(r.statusCode).toBe(400);
    expect(r.json()).toEqual({
      error: { code: 'BAD_REQUEST', message: expect.any(String), path },
    });
    expect(g.broker.sent(CMDS)).toEqual([]);
  });

  it('400 for a body that is not JSON, or not application/json; nothing published', async () => {
    g = await testGateway();
    const notJson = await post('axis-1', '{"type":');
    expect(notJson.statusCode).toBe(400);
    expect(notJson.json().error).toMatchObject({ code: 'BAD_REQUEST', path: '/' });
    const text = await g.app.inject({
      method: 'POST',
      url: '/api/v1/drives/axis-1/commands',
      headers: { ...g.auth('operator'), 'content-type': 'text/plain' },
      payload: '{"type":"stop"}',
    });
    expect(text.statusCode).toBe(400);
    expect(text.json().error.code).toBe('BAD_REQUEST');
    const empty = await post('axis-1', '');
    expect(empty.statusCode).toBe(400);
    expect(g.broker.sent(CMDS)).toEqual([]);
  });

  it('413 PAYLOAD_TOO_LARGE over the body limit; nothing published', async () => {
    g = await testGateway();
    const r = await post('axis-1', { type: 'stop', pad: 'x'.repeat(5000) });
    expect(r.statusCode).toBe(413);
    expect(r.json()).toEqual({ error: { code: 'PAYLOAD_TOO_LARGE', message: expect.any(String) } });
    expect(g.broker.sent(CMDS)).toEqual([]);
  });

  it('404 UNKNOWN_DRIVE; nothing published', async () => {
    g = await testGateway();
    const r = await post('axis-9', { type: 'stop' });
    expect(r.statusCode).toBe(404);
    expect(r.json().error.code).toBe('UNKNOWN_DRIVE');
    const read = await g.app.inject({ url: '/api/v1/drives/axis-9', headers: g.auth('viewer') });
    expect(read.statusCode).toBe(404);
    expect(read.json().error.code).toBe('UNKNOWN_DRIVE');
    expect(g.broker.sent(CMDS)).toEqual([]);
  });

  it.each([
    ['INVALID_STATE', 'rejected', 409],
    ['DRIVE_FAULT', 'rejected', 409],
    ['ABORTED', 'failed', 409],
    ['LIMIT_EXCEEDED', 'rejected', 422],
    ['COMMAND_EXPIRED', 'expired', 410],
    ['DRIVE_REJECTED', 'failed', 502],
    ['TIMEOUT', 'failed', 504],
    ['OVERLOADED', 'rejected', 503],
  ] as const)('the drive answers %s (%s) → %i with the same code', async (code, status, http) => {
    g = await testGateway();
    g.device.behaviour.set('axis-1', () => ({ status, error: { code, message: `said ${code}` } }));
    const r = await post('axis-1', { type: 'moveTo', position: 1, commandId: `x-${code}` });
    expect(r.statusCode).toBe(http);
    expect(r.json()).toMatchObject({
      error: { code, message: `said ${code}` },
      commandId: `x-${code}`,
      driveId: 'axis-1',
      status,
    });
    if (http === 503) expect(r.headers['retry-after']).toBeDefined();
    if (http === 504) expect(r.json().outcome).toBe('unknown');
  });

  it('503 DRIVE_UNREACHABLE at once for an unreachable or offline drive: nothing published', async () => {
    g = await testGateway();
    await g.device.availability('axis-2', 'unreachable', 'breaker open');
    await g.device.availability('axis-3', 'offline', 'last will');
    await flush();
    for (const id of ['axis-2', 'axis-3']) {
      const r = await post(id, { type: 'enable' });
      expect(r.statusCode).toBe(503);
      expect(r.headers['retry-after']).toBe('2');
      expect(r.json().error.code).toBe('DRIVE_UNREACHABLE');
    }
    expect(g.broker.sent(CMDS)).toEqual([]);
    const d = await g.app.inject({ url: '/api/v1/drives/axis-2', headers: g.auth('viewer') });
    expect(d.json()).toMatchObject({ dead: true, breaker: { device: 'open' } });
  });

  it('503 DRIVE_UNREACHABLE for a fleet drive no device service has reported', async () => {
    g = await testGateway({ start: false });
    const r = await post('axis-1', { type: 'enable' });
    expect(r.statusCode).toBe(503);
    expect(r.json().error.message).toContain('no device service has reported axis-1');
    expect(g.broker.sent(CMDS)).toEqual([]);
  });

  it('503 SERVICE_UNAVAILABLE while the broker is away: nothing queued', async () => {
    g = await testGateway();
    g.gatewayMqtt.disconnect();
    const r = await post('axis-1', { type: 'enable' });
    expect(r.statusCode).toBe(503);
    expect(r.json().error.code).toBe('SERVICE_UNAVAILABLE');
    expect(g.broker.sent(CMDS)).toEqual([]);
    const ready = await g.app.inject({ url: '/readyz' });
    expect(ready.statusCode).toBe(503);
  });

  it('504 TIMEOUT says the outcome is unknown and gives the commandId; the result is learnt later', async () => {
    g = await testGateway();
    g.device.behaviour.set('axis-1', () => 'hold');
    const r = await post('axis-1', { type: 'enable', commandId: 'slow-1' }, '?timeoutMs=50');
    expect(r.statusCode).toBe(504);
    expect(r.json()).toMatchObject({
      error: { code: 'TIMEOUT' },
      commandId: 'slow-1',
      driveId: 'axis-1',
      outcome: 'unknown',
    });
    expect(r.json().error.message).toContain('/api/v1/commands/slow-1');
    g.device.release('slow-1');
    await flush();
    const later = await g.app.inject({ url: '/api/v1/commands/slow-1', headers: g.auth('viewer') });
    expect(later.json()).toMatchObject({ status: 'completed', final: true });
    // The command carried a deadline of now + timeout: it could not start late.
    const [sent] = g.broker.sent('servofleet/drives/axis-1/commands');
    expect((sent!.json!.deadline as number) - Date.now()).toBeLessThan(100);
  });

  it('the breaker opens after 3 round trips without a sign of life: 503 BREAKER_OPEN, nothing published, then it recovers', async () => {
    g = await testGateway({ options: { breakerHalfOpenAfterMs: 300 } });
    g.device.behaviour.set('axis-1', () => 'silent');
    for (let i = 0; i < 3; i++) {
      const r = await post('axis-1', { type: 'enable' }, '?timeoutMs=20');
      expect(r.statusCode).toBe(504);
    }
    const before = g.broker.sent(CMDS).length;
    const open = await post('axis-1', { type: 'enable' });
    expect(open.statusCode).toBe(503);
    expect(open.json().error.code).toBe('BREAKER_OPEN');
    expect(Number(open.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(g.broker.sent(CMDS).length).toBe(before);
    const view = await g.app.inject({ url: '/api/v1/drives/axis-1', headers: g.auth('viewer') });
    expect(view.json()).toMatchObject({ dead: true, breaker: { gateway: 'open' } });
    const metrics = await g.app.inject({ url: '/metrics' });
    expect(metrics.body).toMatch(
      /servofleet_gateway_breaker_state\{drive="axis-1",source="gateway"[^}]*\} 1/,
    );
    // Other drives are not affected.
    expect((await post('axis-2', { type: 'enable' })).statusCode).toBe(200);
    // Stop and quick stop are still attempted.
    g.device.behaviour.set('axis-1', () => ({ status: 'completed' }));
    expect((await post('axis-1', { type: 'quickStop' })).statusCode).toBe(200);
    // After the open period one command tests the drive; it answers, the breaker closes.
    const healed = await eventually(
      async () => {
        const r = await post('axis-1', { type: 'enable' });
        return r.statusCode === 200 ? r : undefined;
      },
      'breaker half-open and closed again',
      5000,
      50,
    );
    expect(healed.statusCode).toBe(200);
    const after = await g.app.inject({ url: '/api/v1/drives/axis-1', headers: g.auth('viewer') });
    expect(after.json().breaker.gateway).toBe('closed');
  });

  it('a drive that takes the command but is slow does not open the breaker (504, then still sent)', async () => {
    g = await testGateway();
    g.device.behaviour.set('axis-1', () => 'alive');
    for (let i = 0; i < 4; i++) {
      const r = await post('axis-1', { type: 'enable' }, '?timeoutMs=20');
      expect(r.statusCode).toBe(504);
      expect(r.json().error.message).toContain('took the command');
    }
    const view = await g.app.inject({ url: '/api/v1/drives/axis-1', headers: g.auth('viewer') });
    expect(view.json().breaker.gateway).toBe('closed');
  });

  it('503 OVERLOADED past the per-drive bulkhead; stop skips the queue', async () => {
    g = await testGateway({ options: { maxInFlightPerDrive: 1, maxQueuePerDrive: 1 } });
    g.device.behaviour.set('axis-1', (c) => (c.type === 'stop' ? { status: 'completed' } : 'hold'));
    const first = post('axis-1', { type: 'moveTo', position: 1, commandId: 'b-1' });
    const second = post('axis-1', { type: 'moveTo', position: 2, commandId: 'b-2' });
    await eventually(() => g.device.held().includes('b-1'), 'b-1 in flight');
    const third = await post('axis-1', { type: 'moveTo', position: 3, commandId: 'b-3' });
    expect(third.statusCode).toBe(503);
    expect(third.json()).toMatchObject({ error: { code: 'OVERLOADED' }, commandId: 'b-3' });
    expect(third.headers['retry-after']).toBe('1');
    expect(g.broker.sent(CMDS).some((p) => p.json?.commandId === 'b-3')).toBe(false);
    expect(g.broker.sent(CMDS).some((p) => p.json?.commandId === 'b-2')).toBe(false);
    const stop = await post('axis-1', { type: 'stop' });
    expect(stop.statusCode).toBe(200);
    g.device.release('b-1');
    await eventually(() => g.device.held().includes('b-2'), 'b-2 in flight');
    g.device.release('b-2');
    expect((await first).statusCode).toBe(200);
    expect((await second).statusCode).toBe(200);
  });

  it('a command queued past its timeout is 503 OVERLOADED and never sent', async () => {
    g = await testGateway({ options: { maxInFlightPerDrive: 1, maxQueuePerDrive: 4 } });
    g.device.behaviour.set('axis-1', () => 'hold');
    const first = post(
      'axis-1',
      { type: 'moveTo', position: 1, commandId: 'q-1' },
      '?timeoutMs=2000',
    );
    await eventually(() => g.device.held().includes('q-1'), 'q-1 in flight');
    const queued = await post(
      'axis-1',
      { type: 'moveTo', position: 2, commandId: 'q-2' },
      '?timeoutMs=30',
    );
    expect(queued.statusCode).toBe(503);
    expect(queued.json().error).toMatchObject({ code: 'OVERLOADED' });
    expect(queued.json().error.message).toContain('nothing was sent');
    g.device.release('q-1');
    expect((await first).statusCode).toBe(200);
    await flush();
    expect(g.broker.sent(CMDS).some((p) => p.json?.commandId === 'q-2')).toBe(false);
  });

  it('GET /commands/{id}: 404 NOT_FOUND when unknown; known from events for commands others sent', async () => {
    g = await testGateway();
    const none = await g.app.inject({ url: '/api/v1/commands/nope', headers: g.auth('viewer') });
    expect(none.statusCode).toBe(404);
    expect(none.json().error.code).toBe('NOT_FOUND');
    // An MQTT client (or another gateway) sends a command; its events reach this gateway.
    await g.device.event('axis-2', {
      type: 'command',
      commandId: 'other-1',
      commandType: 'stop',
      phase: 'completed',
    });
    await flush();
    const seen = await g.app.inject({ url: '/api/v1/commands/other-1', headers: g.auth('viewer') });
    expect(seen.json()).toMatchObject({
      commandId: 'other-1',
      driveId: 'axis-2',
      type: 'stop',
      status: 'completed',
      final: true,
    });
  });

  it('400 for a timeout above the maximum, and for a commandId used for another drive', async () => {
    g = await testGateway();
    const slow = await post('axis-1', { type: 'stop' }, '?timeoutMs=999999');
    expect(slow.statusCode).toBe(400);
    const bad = await post('axis-1', { type: 'stop' }, '?timeoutMs=abc');
    expect(bad.statusCode).toBe(400);
    expect((await post('axis-1', { type: 'stop', commandId: 'same' })).statusCode).toBe(200);
    const other = await post('axis-2', { type: 'stop', commandId: 'same' });
    expect(other.statusCode).toBe(400);
    expect(other.json().error.path).toBe('/commandId');
  });

  it('viewers may not send commands (403), operators and admins may', async () => {
    g = await testGateway();
    expect((await post('axis-1', { type: 'stop' }, '', 'viewer')).statusCode).toBe(403);
    expect((await post('axis-1', { type: 'stop' }, '', 'operator')).statusCode).toBe(200);
    expect((await post('axis-1', { type: 'stop' }, '', 'admin')).statusCode).toBe(200);
    expect(g.broker.sent(CMDS)).toHaveLength(2);
  });
});
