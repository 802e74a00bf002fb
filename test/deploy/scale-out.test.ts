/**
 * Scale-out (issue 7): two gateway instances behind a round-robin HTTP load balancer
 * and two journals sharing the event stream, on one Mosquitto 2 (MQTT 5), in front
 * of the simulator and a device service for four sf-servo drives.
 *
 * What a user sees:
 * - every command sent through the balancer gets one answer with its drive's result,
 *   both gateways take a share, and each command reaches its drive once;
 * - a retry of a `commandId` through the other gateway executes nothing twice;
 * - every event the device service published is stored once across the two journals
 *   (the shared subscription `$share/servofleet-journal/…` splits the stream), and the
 *   event history through either gateway is the whole of it;
 * - both gateways show the same drives, live and in their read models; a live stream
 *   resumed on the other instance says `reset` (the replay ring is per instance).
 *
 * The journals run as `servofleet journal` child processes, each with its own fleet
 * file and database (services/journal README: several journals, each with its own
 * database, split the stream) and its own instance id from `SERVOFLEET_JOURNAL_INSTANCE`
 * (client id and service id `journal-a`, `journal-b`). The gateways run in this
 * process, each with its own instance id, port and MQTT session (client id and service
 * id `gateway-gw-a`, `gateway-gw-b`), and the same fleet: API keys, and both journals in
 * `gateway.journals`, whose histories each gateway merges for `GET /api/v1/events`.
 * Loopback only, every wait bounded.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Simulator } from '../../device-sim/src/index.ts';
import {
  type DeviceProcess,
  startDeviceProcess,
} from '../../services/device/src/device-process.ts';
import { type RunningGateway, startGateway } from '../../services/gateway/src/index.ts';
import { openSse } from '../../services/gateway/test/sse-client.ts';
import {
  eventually,
  type MosquittoProcess,
  startMosquitto,
} from '../../services/runtime/test/helpers.ts';
import { PROFILES, silent, Watcher } from '../device/harness.ts';
import { KEYS } from '../gateway/harness.ts';
import {
  type JournalConfig,
  type JournalProcess,
  journalConfig,
  spawnJournal,
  waitReady,
} from '../journal/harness.ts';
import {
  type Answer,
  allEvents,
  type Balancer,
  call,
  command,
  DRIVES,
  fleetFor,
  type StoredEvent,
  startBalancer,
  stopJournal,
} from './scale-out-harness.ts';

describe('scale-out: two gateways behind a load balancer, two journals, one Mosquitto', {
  timeout: 120_000,
}, () => {
  const dir = mkdtempSync(join(tmpdir(), 'servofleet-scale-out-'));
  let broker: MosquittoProcess | undefined;
  const journals: { cfg: JournalConfig; proc: JournalProcess }[] = [];
  let watcher: Watcher | undefined;
  let sim: Simulator | undefined;
  let device: DeviceProcess | undefined;
  const gateways: RunningGateway[] = [];
  let lb: Balancer | undefined;
  /** The two gateways' MQTT 5 response topics, in the balancer's order. */
  const replyTopics = ['servofleet/gateway/gw-a/replies', 'servofleet/gateway/gw-b/replies'];

  const eventsOf = (commandId: string, phase?: string) =>
    watcher!.messages.filter(
      (m) =>
        m.topic.endsWith('/events') &&
        m.json.type === 'command' &&
        m.json.commandId === commandId &&
        (phase === undefined || m.json.phase === phase),
    );
  const published = (commandId: string) =>
    watcher!.messages.filter(
      (m) => m.topic.endsWith('/commands') && m.json.commandId === commandId,
    );
  const position = (id: string) => sim!.drive(id).positionActual();

  beforeAll(async () => {
    broker = await startMosquitto();
    // The journals first: an event published before they subscribe is nobody's.
    for (const instance of ['a', 'b']) {
      const cfg = await journalConfig(dir, broker.url, `journal-${instance}`);
      journals.push({ cfg, proc: spawnJournal(cfg, { SERVOFLEET_JOURNAL_INSTANCE: instance }) });
    }
    for (const j of journals) await waitReady(j.cfg, j.proc, 60_000);
    // What a dashboard subscribed to every drive's events and commands sees (MQTT 5,
    // so the commands' response topics show which gateway sent each).
    // And every service's availability.
    watcher = await Watcher.connect(
      broker.url,
      [
        'servofleet/drives/+/events',
        'servofleet/drives/+/commands',
        'servofleet/services/+/availability',
      ],
      5,
    );
    const fleet = fleetFor(
      broker.url,
      journals.map((j) => j.cfg.url),
    );
    const link = fleet.links[0]!;
    sim = new Simulator({
      seed: 7,
      links: [
        {
          id: link.id,
          protocol: link.protocol,
          baud: link.baud,
          listen: 'memory://',
          paced: false,
          turnaroundMs: 1,
          drives: link.drives.map((d) => ({
            id: d.id,
            unit: d.unit,
            profile: PROFILES.get(d.profile)!,
          })),
        },
      ],
    });
    await sim.start();
    device = await startDeviceProcess({
      fleet,
      linkId: link.id,
      profiles: PROFILES,
      log: silent,
      link: async () => sim!.connect(link.id),
      adminPort: 0,
      // The simulator runs on the wall clock in this process, which shares two cores with
      // other tests: allow for event-loop stalls, not only timer jitter, per transaction.
      latencyMs: 250,
    });
    for (const instanceId of ['gw-a', 'gw-b']) {
      gateways.push(
        await startGateway({
          fleet,
          log: silent,
          port: 0,
          instanceId,
          // No load shedding: on a shared two-core machine an event-loop stall of a
          // second would answer 503 OVERLOADED, which is another test's subject.
          options: { maxEventLoopDelayMs: 0 },
        }),
      );
    }
    lb = await startBalancer(gateways.map((g) => g.url));
    for (const g of gateways) {
      await eventually(
        async () => {
          const r = await call(g.url, 'GET', '/api/v1/drives');
          const drives = (r.json.drives ?? []) as {
            availability: { status: string } | null;
            state: unknown;
          }[];
          return (
            drives.length === DRIVES.length &&
            drives.every((d) => d.availability?.status === 'online' && d.state)
          );
        },
        `every drive online in ${g.url}`,
        30_000,
        50,
      );
    }
  }, 120_000);

  afterAll(async () => {
    await lb?.close();
    for (const g of gateways) await g.close();
    await device?.stop();
    await sim?.close();
    await watcher?.close();
    for (const j of journals) await stopJournal(j.proc);
    await broker?.stop();
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('20 commands through the balancer: one answer each with its result, both gateways served, each reached its drive once', async () => {
    const before = [...lb!.served];
    // Per drive, in order: enable, an absolute move, a relative move, a move outside the
    // soft limits (refused by the drive's service), stop. The drives run side by side.
    const plan = DRIVES.map((id, i) => {
      const d = i + 1;
      return [
        { body: { type: 'enable', resetFault: true }, status: 200 },
        { body: { type: 'moveTo', position: 5000 * d, velocity: 40000 }, status: 200 },
        {
          body: { type: 'moveTo', position: -2000 * d, velocity: 40000, relative: true },
          status: 200,
        },
        { body: { type: 'moveTo', position: 900000 }, status: 422, code: 'LIMIT_EXCEEDED' },
        { body: { type: 'stop' }, status: 200 },
      ].map((c, n) => ({ ...c, driveId: id, commandId: `so-${id}-${n}` }));
    });
    const answers = await Promise.all(
      plan.map(async (cmds) => {
        const out: { sent: (typeof cmds)[number]; got: Answer }[] = [];
        for (const c of cmds) {
          out.push({
            sent: c,
            got: await command(lb!.url, c.driveId, { ...c.body, commandId: c.commandId }),
          });
        }
        return out;
      }),
    );
    const all = answers.flat();
    expect(all).toHaveLength(20);
    for (const { sent, got } of all) {
      const what = `${sent.commandId} ${JSON.stringify(got.json)}`;
      expect(got.status, what).toBe(sent.status);
      if (sent.status === 200) {
        expect(got.json, what).toMatchObject({
          commandId: sent.commandId,
          driveId: sent.driveId,
          status: 'completed',
        });
        expect(got.json, what).not.toHaveProperty('replayed');
      } else {
        expect(got.json, what).toMatchObject({
          commandId: sent.commandId,
          driveId: sent.driveId,
          status: 'rejected',
          error: { code: sent.code },
        });
      }
    }
    // The balancer alternated: each gateway took half of them.
    expect(lb!.served.map((n, i) => n - before[i]!)).toEqual([10, 10]);
    // And the gateways say so on MQTT: each command was published once, by the gateway
    // the balancer gave it to (its MQTT 5 response topic), and its drive's service
    // received it once.
    await eventually(
      () => all.every(({ sent }) => eventsOf(sent.commandId).length >= 2),
      'every command’s final event on MQTT',
      5000,
    );
    const senders = new Set<string>();
    for (const { sent } of all) {
      const pubs = published(sent.commandId);
      expect(
        pubs.map((m) => m.topic),
        sent.commandId,
      ).toEqual([`servofleet/drives/${sent.driveId}/commands`]);
      const responseTopic = pubs[0]!.properties?.responseTopic as string;
      expect(replyTopics).toContain(responseTopic);
      senders.add(responseTopic);
      expect(eventsOf(sent.commandId, 'received'), sent.commandId).toHaveLength(1);
    }
    expect([...senders].sort()).toEqual(replyTopics);
    // Where the drives stand: each move happened once.
    for (const [i, id] of DRIVES.entries()) {
      expect(Math.abs(position(id) - 3000 * (i + 1)), id).toBeLessThanOrEqual(10);
    }
  });

  it('a retry with the same commandId through the other gateway executes once', async () => {
    const [gwA, gwB] = gateways as [RunningGateway, RunningGateway];
    await command(gwA.url, 'axis-1', { type: 'enable' });
    const p0 = position('axis-1');

    // After the first answer: the other gateway knows the result (from the drive's
    // command events) and answers from memory, sending nothing.
    const body = { type: 'moveTo', position: 4000, velocity: 40000, relative: true };
    const first = await command(gwA.url, 'axis-1', { ...body, commandId: 'so-retry-done' });
    expect(first.status, JSON.stringify(first.json)).toBe(200);
    await eventually(
      async () =>
        (await call(gwB.url, 'GET', '/api/v1/commands/so-retry-done')).json.final === true,
      'gateway b to know the result of so-retry-done',
      10_000,
    );
    const again = await command(gwB.url, 'axis-1', { ...body, commandId: 'so-retry-done' });
    expect(again.status, JSON.stringify(again.json)).toBe(200);
    expect(again.json).toMatchObject({
      commandId: 'so-retry-done',
      driveId: 'axis-1',
      status: 'completed',
      replayed: true,
    });
    expect(Math.abs(position('axis-1') - (p0 + 4000))).toBeLessThanOrEqual(10);

    // While the first is still moving: the other gateway has no result yet and sends it
    // again; the drive's service takes the commandId once and answers both.
    const long = { type: 'moveTo', position: 60000, velocity: 20000, relative: true };
    const viaA = command(gwA.url, 'axis-1', { ...long, commandId: 'so-retry-live' });
    await watcher!.next(
      (m) =>
        m.topic === 'servofleet/drives/axis-1/events' &&
        m.json.commandId === 'so-retry-live' &&
        m.json.phase === 'accepted',
      'so-retry-live accepted (moving)',
      15_000,
    );
    const viaB = await command(gwB.url, 'axis-1', { ...long, commandId: 'so-retry-live' });
    const a = await viaA;
    for (const r of [a, viaB]) {
      expect(r.status, JSON.stringify(r.json)).toBe(200);
      expect(r.json).toMatchObject({
        commandId: 'so-retry-live',
        driveId: 'axis-1',
        status: 'completed',
      });
    }
    expect(a.json).not.toHaveProperty('replayed');
    expect(Math.abs(position('axis-1') - (p0 + 64000))).toBeLessThanOrEqual(10);

    // On MQTT: so-retry-done was published once (gateway b's later publish on the same
    // topic is here, so an earlier one would be too); so-retry-live by gateway a, and by
    // gateway b unless it had the result already; each was received once.
    const senders = (id: string) => published(id).map((m) => m.properties?.responseTopic);
    await eventually(
      () => (viaB.json.replayed === true ? true : senders('so-retry-live').length === 2),
      'gateway b’s publish of so-retry-live',
      5000,
    );
    expect(senders('so-retry-done')).toEqual([replyTopics[0]]);
    expect(senders('so-retry-live')).toEqual(
      viaB.json.replayed === true ? [replyTopics[0]] : replyTopics,
    );
    await eventually(
      () => eventsOf('so-retry-live', 'completed').length > 0,
      'so-retry-live completed on MQTT',
      5000,
    );
    for (const id of ['so-retry-done', 'so-retry-live']) {
      expect(eventsOf(id, 'received'), id).toHaveLength(1);
      expect(eventsOf(id, 'completed'), id).toHaveLength(1);
      expect(eventsOf(id), id).toHaveLength(3); // received, accepted, completed
    }
  });

  it('every event published is stored once across the two journals; the history through either gateway is all of it', async () => {
    const seen = watcher!.messages
      .filter((m) => m.topic.endsWith('/events'))
      .map((m) => m.json as unknown as StoredEvent);
    const seenIds = new Set(seen.map((e) => e.eventId));
    expect(seenIds.size).toBe(seen.length);
    const stored = () =>
      Promise.all(journals.map((j) => allEvents(j.cfg.url, '/events', 'limit=1000')));
    const [a, b] = await eventually(
      async () => {
        const s = await stored();
        const ids = new Set(s.flat().map((e) => e.eventId));
        return [...seenIds].every((id) => ids.has(id)) ? s : undefined;
      },
      `the ${seenIds.size} events published, in the journals`,
      20_000,
      100,
    );
    const ids = [...a!, ...b!].map((e) => e.eventId);
    // Once each: no event in both journals, none twice in one; nothing made up.
    expect(new Set(ids).size).toBe(ids.length);
    const published = new Set(
      watcher!.messages.filter((m) => m.topic.endsWith('/events')).map((m) => m.json.eventId),
    );
    expect(ids.filter((id) => !published.has(id))).toEqual([]);
    // The shared subscription gave each journal a share.
    expect(a!.length).toBeGreaterThan(0);
    expect(b!.length).toBeGreaterThan(0);

    // Through either gateway (and so through the balancer): one history over both
    // journals, paged with the gateway's cursor.
    const inJournals = [...a!, ...b!].filter((e) => e.driveId === 'axis-1').map((e) => e.eventId);
    for (const g of gateways) {
      const got = (await allEvents(g.url, '/api/v1/events', 'drive=axis-1&limit=25')).map(
        (e) => e.eventId,
      );
      expect(new Set(got).size, g.url).toBe(got.length);
      expect(new Set(got), g.url).toEqual(new Set(inJournals));
    }
    const history = await call(lb!.url, 'GET', '/api/v1/events?commandId=so-retry-live');
    expect(history.status).toBe(200);
    // Its three events, wherever each was stored. (Ordered by ts; two events of the same
    // millisecond in different journals come in the journals' order, not arrival order.)
    expect((history.json.events as StoredEvent[]).map((e) => e.phase).sort()).toEqual([
      'accepted',
      'completed',
      'received',
    ]);
  });

  it('each journal and gateway is a service of its own, online under its instance id', async () => {
    const services = [
      'servofleet/services/journal-a/availability',
      'servofleet/services/journal-b/availability',
      'servofleet/services/gateway-gw-a/availability',
      'servofleet/services/gateway-gw-b/availability',
    ];
    const status = (topic: string) => watcher!.latest(topic)?.json.status;
    await eventually(
      () => services.every((t) => status(t) === 'online'),
      'both journals and both gateways online',
      10_000,
    );
    // None went offline meanwhile (a replica that lost its session to another would
    // have, by its last will), and none says it is the single `journal`.
    const said = watcher!.messages.filter((m) => m.topic.startsWith('servofleet/services/'));
    expect(said.filter((m) => services.includes(m.topic) && m.json.status !== 'online')).toEqual(
      [],
    );
    expect(said.filter((m) => m.topic === 'servofleet/services/journal/availability')).toEqual([]);
  });

  it('both gateways show the same drives, in their read models and on their live streams', async () => {
    const headers = { authorization: `Bearer ${KEYS.viewer}` };
    const streams = await Promise.all(
      gateways.map((g) => openSse(`${g.url}/api/v1/stream?drive=axis-2&type=state`, headers)),
    );
    try {
      expect(streams.map((s) => s.status)).toEqual([200, 200]);
      const mv = await command(lb!.url, 'axis-2', {
        type: 'moveTo',
        position: 12345,
        velocity: 40000,
      });
      expect(mv.status, JSON.stringify(mv.json)).toBe(200);
      for (const s of streams) {
        await s.waitFor(
          (e) =>
            e.type === 'state' &&
            e.data.driveId === 'axis-2' &&
            Math.abs(Number(e.data.position) - 12345) <= 10,
          'axis-2 at 12345 on the stream',
          10_000,
        );
      }
      // A stream resumed on the other instance (a balancer without sticky streams)
      // cannot replay gateway a's ring: it says `reset`, the client reloads the snapshot.
      const lastOfA = streams[0]!.events.at(-1)!.id!;
      const resumed = await openSse(`${gateways[1]!.url}/api/v1/stream?drive=axis-2&type=state`, {
        ...headers,
        'last-event-id': lastOfA,
      });
      streams.push(resumed);
      expect(resumed.status).toBe(200);
      await resumed.waitFor((e) => e.type === 'reset', 'reset on gateway b', 10_000);
    } finally {
      for (const s of streams) s.close();
    }
    // The read models: the same state of every drive in both, where the drives stand.
    const view = async (g: RunningGateway) => {
      const r = await call(g.url, 'GET', '/api/v1/drives');
      return (r.json.drives as { id: string; state: { cia402: string; position: number } }[])
        .map((d) => ({ id: d.id, cia402: d.state.cia402, position: d.state.position }))
        .sort((x, y) => x.id.localeCompare(y.id));
    };
    const [va, vb] = await eventually(
      async () => {
        const v = await Promise.all(gateways.map(view));
        const same = JSON.stringify(v[0]) === JSON.stringify(v[1]);
        const settled = v[0]!.every(
          (d) => d.cia402 === 'OPERATION_ENABLED' && Math.abs(d.position - position(d.id)) <= 10,
        );
        return same && settled ? v : undefined;
      },
      'both gateways showing every drive where it stands',
      10_000,
      50,
    );
    expect(va!.map((d) => d.id)).toEqual([...DRIVES]);
    expect(vb).toEqual(va);
  });
});
