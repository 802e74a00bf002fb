/**
 * The gateway in front of the simulator and the device services (embedded aedes,
 * MQTT 3.1.1, so replies come back through `replyTo`): what an HTTP client sees, and
 * what reaches the drives — every status code on purpose, idempotent retries checked
 * on the simulator's position, nothing published for a bad or hopeless request, the
 * live stream and its resume.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSse, type SseClient } from '../../services/gateway/test/sse-client.ts';
import { eventually, type GatewayRig, KEYS, startGatewayRig } from './harness.ts';

const DRIVES = ['axis-1', 'axis-2', 'axis-3', 'axis-4', 'dxl-1', 'dxl-2'];

describe('gateway with simulator and device services (aedes)', { timeout: 45_000 }, () => {
  let r: GatewayRig;
  const streams: SseClient[] = [];
  beforeAll(async () => {
    r = await startGatewayRig('aedes');
    await r.allOnline();
  }, 60_000);
  afterAll(async () => {
    for (const s of streams.splice(0)) s.close();
    await r?.close();
  }, 30_000);

  const commandsFor = (id: string, from: number) =>
    r.rig.watcher.messages
      .slice(from)
      .filter((m) => m.topic === `servofleet/drives/${id}/commands`);
  const online = (id: string) =>
    eventually(
      async () => {
        const d = await r.http('GET', `/api/v1/drives/${id}`);
        return (d.json.availability as { status?: string } | null)?.status === 'online';
      },
      `${id} online in the read model`,
      10_000,
      25,
    );
  const stream = async (query: string, headers: Record<string, string> = r.auth('viewer')) => {
    const s = await openSse(`${r.url}/api/v1/stream${query}`, headers);
    streams.push(s);
    return s;
  };

  it('GET /drives: every drive, online, with state and meta, from memory', async () => {
    // Meta, availability, state and events are separate topics, and a drive's events
    // (which carry its availability changes too) ride another session than its meta:
    // MQTT orders messages per topic only, so any of them may be the last to arrive.
    await eventually(
      async () => {
        const d = await r.http('GET', '/api/v1/drives');
        const drives = d.json.drives as {
          availability: { status: string } | null;
          state: unknown;
          meta: unknown;
        }[];
        return drives.every((x) => x.availability?.status === 'online' && x.state && x.meta);
      },
      'all drives online with state and meta',
      10_000,
      25,
    );
    const d = await r.http('GET', '/api/v1/drives');
    expect(d.status).toBe(200);
    const drives = d.json.drives as Record<string, unknown>[];
    expect(drives.map((x) => x.id)).toEqual(DRIVES);
    expect(drives[0]).toMatchObject({
      id: 'axis-1',
      link: 'bus-a',
      availability: { status: 'online' },
      state: { driveId: 'axis-1', cia402: 'SWITCH_ON_DISABLED', fault: null },
      meta: { driveId: 'axis-1', protocol: 'modbus-rtu', link: 'bus-a' },
      breaker: { gateway: 'closed' },
      dead: false,
    });
    const one = await r.http('GET', '/api/v1/drives/dxl-2');
    expect(one.json).toMatchObject({
      id: 'dxl-2',
      link: 'bus-b',
      meta: { protocol: 'dynamixel2' },
    });
    expect((await r.http('GET', '/api/v1/drives/axis-9')).status).toBe(404);
  });

  it('enable → 200 and the simulated drive is enabled; moveTo → 200 and it is there', async () => {
    const en = await r.enable('axis-1');
    expect(en.status, JSON.stringify(en.json)).toBe(200);
    expect(en.json).toMatchObject({ status: 'completed', driveId: 'axis-1', type: 'enable' });
    expect(r.rig.sim.drive('axis-1').state).toBe('OPERATION_ENABLED');
    const mv = await r.command('axis-1', { type: 'moveTo', position: 6000, velocity: 40000 });
    expect(mv.status, JSON.stringify(mv.json)).toBe(200);
    expect(Math.abs(r.rig.sim.drive('axis-1').positionActual() - 6000)).toBeLessThanOrEqual(10);
  });

  it('an idempotent retry with the same commandId executes once (the simulator moved once)', async () => {
    expect((await r.enable('axis-3')).status).toBe(200);
    const start = r.rig.sim.drive('axis-3').positionActual();
    const body = {
      type: 'moveTo',
      position: 1500,
      relative: true,
      velocity: 40000,
      commandId: 'e2e-rel-3',
    };
    const [a, b] = await Promise.all([r.command('axis-3', body), r.command('axis-3', body)]);
    const c = await r.command('axis-3', body);
    for (const x of [a, b, c]) {
      expect(x.status).toBe(200);
      expect(x.json).toMatchObject({ commandId: 'e2e-rel-3', status: 'completed' });
    }
    expect(c.json.replayed).toBe(true);
    expect(
      Math.abs(r.rig.sim.drive('axis-3').positionActual() - (start + 1500)),
    ).toBeLessThanOrEqual(10);
  });

  it('202 with ?wait=accepted, then GET /commands/{id} gives the final result', async () => {
    const a = await r.command(
      'axis-1',
      { type: 'moveTo', position: 0, velocity: 40000, commandId: 'e2e-acc-1' },
      '?wait=accepted',
    );
    expect(a.status, JSON.stringify(a.json)).toBe(202);
    expect(a.json).toMatchObject({ status: 'accepted', commandId: 'e2e-acc-1' });
    const done = await eventually(
      async () => {
        const g = await r.http('GET', '/api/v1/commands/e2e-acc-1');
        return g.json.final === true ? g : undefined;
      },
      'e2e-acc-1 final',
      10_000,
      25,
    );
    expect(done.json).toMatchObject({ status: 'completed', driveId: 'axis-1', type: 'moveTo' });
  });

  it('the device’s refusals map to 409, 422, 410, 400 with their codes; nothing moves', async () => {
    const before = r.rig.sim.drive('axis-2').positionActual();
    const invalid = await r.command('axis-2', { type: 'moveTo', position: 100 });
    expect([invalid.status, (invalid.json.error as { code: string }).code]).toEqual([
      409,
      'INVALID_STATE',
    ]);
    const limit = await r.command('axis-1', { type: 'moveTo', position: 900000 });
    expect([limit.status, (limit.json.error as { code: string }).code]).toEqual([
      422,
      'LIMIT_EXCEEDED',
    ]);
    const expired = await r.command('axis-1', {
      type: 'moveTo',
      position: 10,
      deadline: Date.now() - 1000,
    });
    expect([expired.status, (expired.json.error as { code: string }).code]).toEqual([
      410,
      'COMMAND_EXPIRED',
    ]);
    expect(expired.json.status).toBe('expired');
    const unsupported = await r.command('dxl-1', { type: 'jog', velocity: 100 });
    expect([unsupported.status, (unsupported.json.error as { code: string }).code]).toEqual([
      400,
      'BAD_REQUEST',
    ]);
    expect(r.rig.sim.drive('axis-2').positionActual()).toBe(before);
  });

  it('409 DRIVE_FAULT for a faulted drive; enable with resetFault → 200', async () => {
    expect((await r.enable('axis-4')).status).toBe(200);
    r.rig.sim.inject({ drive: 'axis-4', fault: 'drive-fault', code: '0x4310' });
    await eventually(
      async () =>
        ((await r.http('GET', '/api/v1/drives/axis-4')).json.state as { cia402: string }).cia402 ===
        'FAULT',
      'axis-4 FAULT in the read model',
      8000,
      25,
    );
    const f = await r.command('axis-4', { type: 'moveTo', position: 100 });
    expect(f.status).toBe(409);
    expect(f.json.error).toMatchObject({ code: 'DRIVE_FAULT' });
    expect(String((f.json.error as { message: string }).message)).toContain('0x4310');
    const reset = await r.command('axis-4', { type: 'enable', resetFault: true });
    expect(reset.status).toBe(200);
    expect(r.rig.sim.drive('axis-4').state).toBe('OPERATION_ENABLED');
  });

  it('bad bodies are 400/413 with codes and paths, and nothing reaches MQTT', async () => {
    const from = r.rig.watcher.messages.length;
    const cases: [string, number, string | undefined][] = [
      [JSON.stringify({ type: 'moveTo', position: 'far' }), 400, '/position'],
      [JSON.stringify({ type: 'moveTo', position: 1, colour: 'red' }), 400, '/colour'],
      [JSON.stringify({ type: 'teleport' }), 400, '/type'],
      ['{"type":', 400, '/'],
      [JSON.stringify({ type: 'stop', pad: 'x'.repeat(8000) }), 413, undefined],
    ];
    for (const [raw, status, path] of cases) {
      const a = await r.http('POST', '/api/v1/drives/axis-1/commands', {
        role: 'operator',
        raw,
        headers: { 'content-type': 'application/json' },
      });
      expect(a.status).toBe(status);
      const err = a.json.error as { code: string; path?: string };
      expect(err.code).toBe(status === 413 ? 'PAYLOAD_TOO_LARGE' : 'BAD_REQUEST');
      if (path) expect(err.path).toBe(path);
    }
    // A good command after them is the only one on the wire.
    const ok = await r.command('axis-1', { type: 'stop', commandId: 'e2e-after-bad' });
    expect(ok.status).toBe(200);
    const sent = commandsFor('axis-1', from);
    expect(sent.map((m) => m.json.commandId)).toEqual(['e2e-after-bad']);
    expect(sent[0]!.json.replyTo).toMatch(/^servofleet\/gateway\/.+\/replies$/);
  });

  it('504 TIMEOUT: outcome unknown, with the commandId; the result is there later', async () => {
    // The client allows the move to start later than it waits (by default the deadline
    // is the end of the wait, and a late command would be `expired`, never run).
    const slow = await r.command(
      'axis-1',
      {
        type: 'moveTo',
        position: 40000,
        velocity: 20000,
        commandId: 'e2e-slow-1',
        deadline: Date.now() + 10_000,
      },
      '?timeoutMs=30',
    );
    expect(slow.status).toBe(504);
    expect(slow.json).toMatchObject({
      error: { code: 'TIMEOUT' },
      commandId: 'e2e-slow-1',
      driveId: 'axis-1',
      outcome: 'unknown',
    });
    const later = await eventually(
      async () => {
        const g = await r.http('GET', '/api/v1/commands/e2e-slow-1');
        return g.json.final === true ? g : undefined;
      },
      'e2e-slow-1 final',
      15_000,
      50,
    );
    expect(later.json).toMatchObject({ status: 'completed' });
    expect(Math.abs(r.rig.sim.drive('axis-1').positionActual() - 40000)).toBeLessThanOrEqual(10);
  });

  it('a dead drive: the stream shows it, commands fail fast with 503 and nothing is published; the others carry on', async () => {
    const s = await stream('?drive=axis-2&type=availability,events');
    const from = r.rig.watcher.messages.length;
    r.rig.sim.inject({ drive: 'axis-2', fault: 'no-response' });
    try {
      await s.waitFor(
        (e) => e.type === 'availability' && e.data.status === 'unreachable',
        'axis-2 unreachable on the stream',
        10_000,
      );
      const b = await s.waitFor(
        (e) => e.type === 'events' && e.data.type === 'breaker' && e.data.state === 'open',
        'breaker open on the stream',
        10_000,
      );
      expect(b.data.driveId).toBe('axis-2');
      const mark = r.rig.watcher.messages.length;
      const dead = await r.command('axis-2', { type: 'enable' });
      expect(dead.status).toBe(503);
      expect(dead.json.error).toMatchObject({ code: 'DRIVE_UNREACHABLE' });
      expect(Number(dead.headers.get('retry-after'))).toBeGreaterThan(0);
      const view = await r.http('GET', '/api/v1/drives/axis-2');
      expect(view.json).toMatchObject({ dead: true, breaker: { device: 'open' } });
      // Healthy neighbours on the same link keep answering.
      expect((await r.command('axis-3', { type: 'stop' })).status).toBe(200);
      expect(commandsFor('axis-2', mark)).toEqual([]);
      expect(commandsFor('axis-2', from)).toEqual([]);
    } finally {
      r.rig.sim.clear({ drive: 'axis-2' });
    }
    await online('axis-2');
  });

  it('the gateway’s own breaker: a drive reported online that never answers → 504 ×3, then 503 BREAKER_OPEN', async () => {
    // A drive whose service announced itself and then went silent (no last will yet).
    const w = r.rig.watcher;
    await w.publish(
      'servofleet/drives/ghost-1/availability',
      { status: 'online', ts: Date.now() },
      { qos: 1, retain: true },
    );
    await w.publish(
      'servofleet/drives/ghost-1/meta',
      {
        driveId: 'ghost-1',
        ts: Date.now(),
        contractVersion: 1,
        protocol: 'modbus-rtu',
        link: 'bus-z',
        unit: 9,
        profile: 'sf-servo',
        pollHz: 20,
        limits: {},
        commands: ['enable'],
        service: 'device-bus-z',
      },
      { qos: 1, retain: true },
    );
    try {
      await online('ghost-1');
      for (let i = 0; i < 3; i++) {
        const t = await r.command('ghost-1', { type: 'enable' }, '?timeoutMs=50');
        expect(t.status).toBe(504);
      }
      const from = r.rig.watcher.messages.length;
      const open = await r.command('ghost-1', { type: 'enable' });
      expect(open.status).toBe(503);
      expect(open.json.error).toMatchObject({ code: 'BREAKER_OPEN' });
      expect(Number(open.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(commandsFor('ghost-1', from)).toEqual([]);
      const v = await r.http('GET', '/api/v1/drives/ghost-1');
      expect(v.json).toMatchObject({ link: 'bus-z', dead: true, breaker: { gateway: 'open' } });
    } finally {
      await w.publish('servofleet/drives/ghost-1/availability', '', { qos: 1, retain: true });
      await w.publish('servofleet/drives/ghost-1/meta', '', { qos: 1, retain: true });
    }
  });

  it('the stream resumes with Last-Event-ID: what happened while away, then live', async () => {
    const first = await stream('?drive=axis-1&type=state');
    // State is published when it changes: move to make some.
    const mv = await r.command('axis-1', { type: 'moveTo', position: 2500, velocity: 40000 });
    expect(mv.status, JSON.stringify(mv.json)).toBe(200);
    const seen = await first.waitFor((e) => e.type === 'state', 'a state event', 10_000);
    first.close();
    expect(
      (await r.command('axis-1', { type: 'moveTo', position: 2000, velocity: 40000 })).status,
    ).toBe(200);
    const again = await stream('?drive=axis-1&type=state', {
      ...r.auth('viewer'),
      'last-event-id': seen.id!,
    });
    const caught = await again.waitFor(
      (e) => e.type === 'state' && Math.abs((e.data.position as number) - 2000) <= 10,
      'the missed move on resume',
      10_000,
    );
    const seq = (id: string | undefined) => Number(String(id).split('-')[1]);
    const seqs = again.events.map((e) => seq(e.id));
    expect(seqs[0]).toBeGreaterThan(seq(seen.id));
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(caught.data.driveId).toBe('axis-1');
    // Live after the replay: the key may also come as ?key= (EventSource).
    const byQuery = await stream(`?drive=axis-1&type=state&key=${KEYS.viewer}`, {});
    expect(byQuery.status).toBe(200);
  });

  it('auth and roles against the live gateway: 401, 403, 200', async () => {
    expect((await r.http('GET', '/api/v1/drives', { role: null })).status).toBe(401);
    const viewerCmd = await r.http('POST', '/api/v1/drives/axis-1/commands', {
      role: 'viewer',
      body: { type: 'stop' },
    });
    expect([viewerCmd.status, (viewerCmd.json.error as { code: string }).code]).toEqual([
      403,
      'FORBIDDEN',
    ]);
    const admin = await r.http('POST', '/api/v1/drives/axis-1/commands', {
      role: 'admin',
      body: { type: 'stop' },
    });
    expect(admin.status).toBe(200);
    // No line in this fleet; no journal yet: said so, not made up.
    expect((await r.http('POST', '/api/v1/lines/line-1/start', { role: 'operator' })).status).toBe(
      404,
    );
    const events = await r.http('GET', '/api/v1/events');
    expect([events.status, (events.json.error as { code: string }).code]).toEqual([
      503,
      'SERVICE_UNAVAILABLE',
    ]);
  });

  it('429 RATE_LIMITED per key with headers (a second gateway with a small budget)', async () => {
    const small = await r.another({ rateLimitMax: 2 });
    const get = () => fetch(`${small.url}/api/v1/drives/axis-1`, { headers: r.auth('viewer') });
    expect((await get()).status).toBe(200);
    expect((await get()).status).toBe(200);
    const limited = await get();
    expect(limited.status).toBe(429);
    expect(limited.headers.get('x-ratelimit-limit')).toBe('2');
    expect(limited.headers.get('retry-after')).toBeTruthy();
    expect(((await limited.json()) as { error: { code: string } }).error.code).toBe('RATE_LIMITED');
  });
});
