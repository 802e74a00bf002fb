/**
 * The line controller process of one line (`servofleet line --line ID`): its plan
 * checked from the fleet file, the saga log opened and read, one MQTT session (its own
 * availability on `{root}/services/line-{id}/availability` with a last will), the
 * restart recovery, the line's retained state and events, line commands, and
 * `/healthz`, `/readyz`, `/metrics` on the line's adminPort. A graceful stop finishes
 * the cycle in progress (STOPPED, logged), publishes offline and closes.
 */
import { randomUUID } from 'node:crypto';
import { dirname, isAbsolute, resolve } from 'node:path';
import {
  LINE_STATES,
  type LineReply,
  type LineStateName,
  lineCommandsTopic,
  parseLineCommand,
  topics,
} from '../../contract/src/index.ts';
import {
  brokerConnection,
  type Clock,
  connectMqtt,
  createMetrics,
  type Fleet,
  type Logger,
  startAdminServer,
  systemClock,
} from '../../runtime/src/index.ts';
import { planLine } from './cycle/parse-cycle.ts';
import { DriveLink } from './drives/drive-link.ts';
import { LineCommands } from './line/line-commands.ts';
import { LineController, type LineMetrics, type LineOutput } from './line/line-controller.ts';
import { SagaBook, summarize } from './saga/saga-book.ts';
import { SagaLog } from './saga/saga-log.ts';

export interface LineProcessOptions {
  fleet: Fleet;
  lineId: string;
  log: Logger;
  /** Absolute path of the fleet file: a relative `sagaLog` is taken from its directory. */
  fleetPath: string;
  clock?: Clock;
  /** Override the line's adminPort (tests: 0). */
  adminPort?: number;
  /** Override where the saga log lives. */
  sagaLogPath?: string;
  resumeWithinMs?: number;
  /** How long to wait for the drives' retained availability before recovering (default 3 s). */
  settleMs?: number;
}

export interface LineProcess {
  readonly serviceId: string;
  readonly controller: LineController;
  readonly adminUrl: string;
  readonly sagaLogPath: string;
  stop(): Promise<void>;
}

/** Where the saga log of a line lives: its `sagaLog`, else `.servofleet/line-{id}.saga.jsonl`, beside the fleet file. */
export function sagaLogPathOf(fleet: Fleet, lineId: string, fleetPath: string): string {
  const line = fleet.lines.find((l) => l.id === lineId);
  const p = line?.sagaLog ?? `.servofleet/line-${lineId}.saga.jsonl`;
  return isAbsolute(p) ? p : resolve(dirname(fleetPath), p);
}

export async function startLineProcess(o: LineProcessOptions): Promise<LineProcess> {
  const clock = o.clock ?? systemClock;
  const plan = planLine(o.fleet, o.lineId);
  // URL, credentials, TLS files (CONFIG_TLS_FILE before anything is opened).
  const broker = brokerConnection(o.fleet.broker);
  const serviceId = `line-${plan.lineId}`;
  const log = o.log.child({ lineId: plan.lineId });
  const sagaLogPath = o.sagaLogPath ?? sagaLogPathOf(o.fleet, plan.lineId, o.fleetPath);
  const opened = SagaLog.open(sagaLogPath, { wallNow: () => clock.wallNow() });
  for (const c of opened.read.corrupt) {
    log.warn({ code: 'SAGA_LOG_CORRUPT', line: c.line, text: c.text }, 'saga log line skipped');
  }
  if (opened.read.tornTail) log.warn({ path: sagaLogPath }, 'saga log: torn last line dropped');
  let logFailed = false;
  const book = new SagaBook(opened.log, summarize(opened.read.records), (err) => {
    if (!logFailed) log.error({ err, path: sagaLogPath }, 'the saga log cannot be written');
    logFailed = true;
  });
  if (opened.read.records.length === 0) {
    // A new log numbers its cycles from now (in tenths of a second), not from 1: a
    // controller that lost its log must not reuse a commandId that the device services
    // still remember (they answer a known one from their cache without running it).
    void book.append({
      t: 'snapshot',
      state: 'IDLE',
      reason: null,
      cycle: Math.floor(clock.wallNow() / 100),
      cyclesCompleted: 0,
      compensations: 0,
      lastCycleMs: null,
      bypassed: [],
    });
  }

  const t = topics(o.fleet.root);
  const metrics = createMetrics({ service: 'line' });
  const labels = { line: plan.lineId };
  const cycles = metrics.counter('servofleet_line_cycles_total', 'Cycles by outcome', [
    'line',
    'outcome',
  ]);
  const cycleSeconds = metrics.histogram(
    'servofleet_line_cycle_seconds',
    'Completed cycle durations',
    {
      labelNames: ['line'],
      buckets: [0.5, 1, 1.5, 2, 3, 5, 10, 30],
    },
  );
  const stateGauge = metrics.gauge(
    'servofleet_line_state',
    'The line state (1 for the current one)',
    ['line', 'state'],
  );
  const bypassedGauge = metrics.gauge(
    'servofleet_line_bypassed_stations',
    'Stations out of the cycle',
    ['line'],
  );
  const lineMetrics: LineMetrics = {
    cycle(outcome, ms) {
      cycles.inc({ ...labels, outcome });
      if (ms !== undefined) cycleSeconds.observe(labels, ms / 1000);
    },
    state(s: LineStateName) {
      for (const x of LINE_STATES) stateGauge.set({ ...labels, state: x }, x === s ? 1 : 0);
    },
    bypassed(n) {
      bypassedGauge.set(labels, n);
    },
  };

  const serviceTopic = t.service(serviceId);
  const mqtt = connectMqtt({
    ...broker,
    clientId: `sf-${serviceId}`,
    will: {
      topic: serviceTopic,
      payload: JSON.stringify({ status: 'offline', ts: clock.wallNow(), reason: 'last will' }),
      qos: 1,
      retain: true,
    },
    clean: true,
    log,
    clock,
    metrics,
  });
  const replyTopic = `${t.root}/lines/${plan.lineId}/replies/${randomUUID().slice(0, 8)}`;
  const link = new DriveLink({ mqtt, topics: t, drives: plan.drives, replyTopic, clock, log });
  const publish = (topic: string, value: unknown, retain: boolean) =>
    mqtt
      .publishJson(topic, value, { qos: 1, retain })
      .catch((err: unknown) => log.debug({ err, topic }, 'publish not acknowledged'));
  let recovered = false;
  const out: LineOutput = {
    event(body) {
      publish(
        t.line(plan.lineId, 'events'),
        { eventId: randomUUID(), lineId: plan.lineId, ts: clock.wallNow(), ...body },
        false,
      );
    },
    state(s) {
      // Before recovery the snapshot is not yet the line's: nothing retained is replaced.
      if (recovered) publish(t.line(plan.lineId, 'state'), s, true);
    },
  };
  const controller = new LineController({
    plan,
    link,
    book,
    clock,
    log,
    out,
    metrics: lineMetrics,
    ...(o.resumeWithinMs !== undefined ? { resumeWithinMs: o.resumeWithinMs } : {}),
  });
  let markReady!: () => void;
  const ready = new Promise<void>((r) => {
    markReady = r;
  });
  const commands = new LineCommands({ controller, clock, log, out, ready });
  const commandTopic = lineCommandsTopic(t, plan.lineId);

  mqtt.onMessage((topic, payload, packet) => {
    if (link.handle(topic, payload)) return;
    if (topic !== commandTopic) return;
    const parsed = parseLineCommand(payload);
    const responseTopic = packet.properties?.responseTopic;
    const correlationData = packet.properties?.correlationData;
    const replyTo = parsed.ok ? parsed.command.replyTo : parsed.replyTo;
    const send = (reply: LineReply) => {
      if (responseTopic) {
        void mqtt
          .publishJson(responseTopic, reply, {
            qos: 1,
            properties: correlationData ? { correlationData } : {},
          })
          .catch(() => {});
      } else if (replyTo) {
        void mqtt.publishJson(replyTo, reply, { qos: 1 }).catch(() => {});
      }
    };
    if (!parsed.ok) {
      log.warn({ error: parsed.error }, 'malformed line command');
      if (parsed.commandId) {
        send({
          commandId: parsed.commandId,
          status: 'rejected',
          ts: clock.wallNow(),
          lineId: plan.lineId,
          error: parsed.error,
        });
      }
      return;
    }
    commands.submit(parsed.command, send);
  });
  mqtt.onConnect(async () => {
    await publish(serviceTopic, { status: 'online', ts: clock.wallNow() }, true);
    if (recovered) controller.publishState();
    await mqtt.subscribe([...link.filters(), commandTopic], { qos: 1 }).catch((err: unknown) => {
      log.error({ err }, 'subscribe failed');
    });
  });

  const admin = await startAdminServer({
    host: '127.0.0.1',
    port: o.adminPort ?? o.fleet.lines.find((l) => l.id === plan.lineId)?.adminPort ?? 0,
    log,
    registry: metrics.registry,
    readiness: () => ({
      ready: mqtt.connected && recovered && !logFailed,
      details: {
        mqtt: mqtt.connected ? 'connected' : 'disconnected',
        recovered,
        sagaLogWritable: !logFailed,
        state: controller.state,
        sagaLog: sagaLogPath,
      },
    }),
  });
  log.info(
    {
      admin: admin.url,
      broker: o.fleet.broker.url,
      sagaLog: sagaLogPath,
      stations: plan.stations.map((s) => s.id),
      steps: plan.steps.length,
    },
    `line controller for ${plan.lineId} (${plan.steps.length} steps, ${plan.drives.length} drives); commands on ${commandTopic}; admin ${admin.url}`,
  );

  // Recovery runs once the drives' retained availability is in (bounded wait).
  const recovery = (async () => {
    for (;;) {
      try {
        await mqtt.waitConnected(10_000);
        break;
      } catch {
        log.warn({ broker: o.fleet.broker.url }, 'waiting for the MQTT broker');
      }
    }
    const settleUntil = clock.now() + (o.settleMs ?? 3000);
    while (
      clock.now() < settleUntil &&
      plan.drives.some((d) => link.view(d).availability === 'unknown')
    ) {
      await new Promise<void>((r) => clock.setTimer(50, r));
    }
    recovered = true;
    await controller.recover();
  })();
  recovery.then(markReady, (err: unknown) => {
    log.error({ err }, 'recovery failed');
    markReady();
  });

  let stopping: Promise<void> | undefined;
  return {
    serviceId,
    controller,
    adminUrl: admin.url,
    sagaLogPath,
    stop() {
      stopping ??= (async () => {
        await recovery.catch(() => {});
        controller.requestStop('controller shutting down');
        let timer: ReturnType<Clock['setTimer']> | undefined;
        await Promise.race([
          controller.idle(),
          new Promise<void>((r) => {
            timer = clock.setTimer(8000, r);
          }),
        ]);
        if (timer) clock.clearTimer(timer);
        if (mqtt.connected) {
          await publish(
            serviceTopic,
            { status: 'offline', ts: clock.wallNow(), reason: 'shutdown' },
            true,
          );
        }
        await mqtt.close();
        await admin.close();
        await book.close();
      })();
      return stopping;
    },
  };
}
