/**
 * The fleet benchmark's client side (bench/fleet.bench.ts): one MQTT subscriber that
 * counts state messages and sees command replies and Mosquitto's $SYS counters;
 * commands that set every drive moving; the device processes' poll counts; and the
 * state latency probe through the simulator's control API.
 */
import mqtt from 'mqtt';
import { BUS, type Layout, POLL_HZ, ROOT } from './fleet-layout.ts';

const REPLIES = 'bench/fleet/replies';
/** The bus-voltage step of a latency sample, V (the drive trips at 60 V; it idles at 48 V). */
const STEP_V = 5;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface Observer {
  client: mqtt.MqttClient;
  /** State messages received so far, every drive. */
  stateCount: number;
  /** Drives seen at least once in state messages. */
  seen: Set<string>;
  /** Drives seen with a non-zero velocity. */
  moving: Set<string>;
  /** Called with each state message of `watch`. */
  watch: string | undefined;
  onWatched: ((state: { voltage: number }) => void) | undefined;
  /** Mosquitto's $SYS counters, when the broker is Mosquitto. */
  sys: Map<string, number>;
  replies: Map<string, (status: string) => void>;
}

export async function observe(url: string): Promise<Observer> {
  const client = await mqtt.connectAsync(url, { protocolVersion: 4, clean: true });
  const o: Observer = {
    client,
    stateCount: 0,
    seen: new Set(),
    moving: new Set(),
    watch: undefined,
    onWatched: undefined,
    sys: new Map(),
    replies: new Map(),
  };
  const prefix = `${ROOT}/drives/`;
  client.on('message', (topic, payload) => {
    if (topic.startsWith(prefix) && topic.endsWith('/state')) {
      o.stateCount++;
      const id = topic.slice(prefix.length, -'/state'.length);
      if (o.seen.size < 100_000) o.seen.add(id);
      if (id === o.watch) o.onWatched?.(JSON.parse(payload.toString('utf8')));
      else if (!o.moving.has(id) && JSON.parse(payload.toString('utf8')).velocity !== 0)
        o.moving.add(id);
    } else if (topic === REPLIES) {
      const r = JSON.parse(payload.toString('utf8')) as {
        commandId: string;
        status: string;
        error?: { code: string; message: string };
      };
      o.replies.get(r.commandId)?.(r.error ? `${r.status} ${r.error.code}` : r.status);
    } else if (topic.startsWith('$SYS/')) {
      o.sys.set(topic, Number(payload.toString('utf8')));
    }
  });
  // QoS 0: a dashboard's view; the gateway takes the same messages at QoS 1.
  await client.subscribeAsync(`${ROOT}/drives/+/state`, { qos: 0 });
  await client.subscribeAsync(REPLIES, { qos: 1 });
  await client.subscribeAsync(
    // (publish/messages/received is not used: Mosquitto 2.0.11 counts only part of what
    // comes in — fewer than the state and telemetry messages a subscriber sees.)
    '$SYS/broker/publish/messages/sent',
    { qos: 0 },
  );
  return o;
}

let commandSeq = 0;
/**
 * One command over MQTT 3.1.1 (`replyTo`); resolves with the first reply that is final,
 * or `accepted` when `acceptedIsEnough` (a move that runs for the rest of the run).
 */
function command(
  o: Observer,
  id: string,
  body: Record<string, unknown>,
  timeoutMs: number,
  acceptedIsEnough: boolean,
) {
  const commandId = `bench-${commandSeq++}`;
  return new Promise<string>((resolveStatus) => {
    const t = setTimeout(() => done('no reply'), timeoutMs);
    function done(status: string) {
      clearTimeout(t);
      o.replies.delete(commandId);
      resolveStatus(status);
    }
    o.replies.set(commandId, (status) => {
      if (status !== 'accepted' || acceptedIsEnough) done(status);
    });
    o.client.publish(
      `${ROOT}/drives/${id}/commands`,
      JSON.stringify({ commandId, replyTo: REPLIES, deadline: Date.now() + timeoutMs, ...body }),
      { qos: 1 },
    );
  });
}

/** Drives of one link set in motion at the same time. */
const MOTION_PER_LINK = 5;

/**
 * Sets every drive moving, as a controller would: each command tried up to three times.
 * Returns the commands that failed (and were tried again), and the drives that could
 * not be set moving, by step and final answer.
 */
export async function setInMotion(
  o: Observer,
  links: Layout['links'],
  motion: Record<string, unknown>[] = BUS.motion,
) {
  const failed = new Map<string, number>();
  let retried = 0;
  const one = async (id: string) => {
    for (const [i, body] of motion.entries()) {
      const last = i === motion.length - 1;
      let status = '';
      for (let attempt = 0; attempt < 3; attempt++) {
        if (attempt > 0) retried++;
        status = await command(o, id, body, 10_000, last);
        if (status === 'completed' || (last && status === 'accepted')) break;
      }
      if (status !== 'completed' && !(last && status === 'accepted')) {
        const k = `${body.type}: ${status}`;
        failed.set(k, (failed.get(k) ?? 0) + 1);
        return;
      }
    }
  };
  // A few drives of a link at a time, as a line controller would start them: fifty
  // commands at once on one bus only measure its queue.
  await Promise.all(
    links.map(async (k) => {
      const queue = [...k.drives];
      await Promise.all(
        Array.from({ length: MOTION_PER_LINK }, async () => {
          for (let id = queue.shift(); id !== undefined; id = queue.shift()) await one(id);
        }),
      );
    }),
  );
  return { failed, retried };
}

/** Successful polls so far, every drive of every link, from the device processes' /readyz. */
export async function pollCount(l: Layout): Promise<number | undefined> {
  let total = 0;
  for (const k of l.links) {
    try {
      const r = await fetch(`http://127.0.0.1:${k.admin}/readyz`, {
        signal: AbortSignal.timeout(2000),
      });
      const body = (await r.json()) as { details?: { drives?: Record<string, { polls: number }> } };
      for (const d of Object.values(body.details?.drives ?? {})) total += d.polls;
    } catch {
      return undefined;
    }
  }
  return total;
}

export interface Probe {
  ms: number[];
  httpMs: number[];
  missed: number;
}

/**
 * Until `until`: step a drive's bus voltage up (then back) in the simulator and time
 * the first state message that shows it; the drives taken in turn, one per link.
 */
export async function probeLatency(o: Observer, l: Layout, until: number): Promise<Probe> {
  const probes = l.links.map((k) => k.drives[0]!);
  const out: Probe = { ms: [], httpMs: [], missed: 0 };
  const base = `http://127.0.0.1:${l.simPort}/sim/faults`;
  for (let i = 0; performance.now() < until; i++) {
    const id = probes[Math.floor(i / 2) % probes.length]!;
    const up = i % 2 === 0;
    // Desynchronise from the poll phase.
    await sleep(Math.random() * (1000 / POLL_HZ));
    let t0 = 0;
    const seen = new Promise<number | undefined>((res) => {
      const timer = setTimeout(() => res(undefined), 2000);
      o.watch = id;
      o.onWatched = (s) => {
        if (up ? s.voltage >= 48 + STEP_V / 2 : s.voltage <= 48 + STEP_V / 2) {
          clearTimeout(timer);
          res(performance.now() - t0);
        }
      };
    });
    t0 = performance.now();
    const r = up
      ? await fetch(base, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ drive: id, fault: 'bus-voltage', volts: STEP_V }),
        })
      : await fetch(`${base}?drive=${id}`, { method: 'DELETE' });
    out.httpMs.push(performance.now() - t0);
    if (!r.ok) throw new Error(`bench: simulator control API: ${r.status} ${await r.text()}`);
    const ms = await seen;
    o.watch = undefined;
    o.onWatched = undefined;
    if (ms === undefined) out.missed++;
    else out.ms.push(ms);
  }
  // Leave no drive with its voltage stepped.
  await fetch(base, { method: 'DELETE' });
  return out;
}
