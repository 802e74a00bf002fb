/**
 * A stand-in for device services in the gateway's unit tests: publishes availability,
 * meta and state for its drives, and answers commands the way the contract says —
 * `received` event, optional `accepted`, one final reply (to the MQTT 5 response topic
 * with the correlation data, or to `replyTo`), a duplicate `commandId` answered with
 * the first result and never executed twice. What it does with a command is up to the
 * test: answer at once, hold it until released, or stay silent.
 */
import { randomUUID } from 'node:crypto';
import type { FakeBroker, FakeClient } from './fake-mqtt.ts';

export interface FinalAnswer {
  status: 'completed' | 'rejected' | 'failed' | 'expired';
  error?: { code: string; message: string; path?: string };
}

/** `hold`: answer only when `release()` says; `silent`: never; `alive`: `received` event only. */
export type Behaviour = (
  cmd: Record<string, unknown>,
) => FinalAnswer | { accepted: true; after: FinalAnswer | 'hold' } | 'hold' | 'silent' | 'alive';

interface Known {
  driveId: string;
  cmd: Record<string, unknown>;
  final?: Record<string, unknown>;
  reply: (r: Record<string, unknown>) => void;
}

export class FakeDevice {
  readonly client: FakeClient;
  readonly executed: Record<string, unknown>[] = [];
  readonly behaviour = new Map<string, Behaviour>();
  readonly #known = new Map<string, Known>();
  #seq = 0;

  constructor(
    readonly broker: FakeBroker,
    readonly drives: string[],
    readonly root = 'servofleet',
  ) {
    this.client = broker.client('fake-device');
    this.client.onMessage((topic, payload, packet) => {
      const m = /\/drives\/([^/]+)\/commands$/.exec(topic);
      if (!m) return;
      this.#onCommand(m[1]!, JSON.parse(payload.toString('utf8')), packet.properties);
    });
    void this.client.subscribe(`${root}/drives/+/commands`);
  }

  async start(link = 'bus-a'): Promise<void> {
    for (const [i, id] of this.drives.entries()) {
      await this.availability(id, 'online');
      await this.client.publishJson(
        `${this.root}/drives/${id}/meta`,
        {
          driveId: id,
          ts: Date.now(),
          contractVersion: 1,
          protocol: 'modbus-rtu',
          link,
          unit: i + 1,
          profile: 'sf-servo',
          pollHz: 20,
          limits: { position: [-100000, 100000] },
          commands: ['enable', 'disable', 'moveTo', 'stop', 'quickStop'],
          service: 'device-fake',
        },
        { qos: 1, retain: true },
      );
      await this.state(id, {});
    }
  }

  availability(id: string, status: 'online' | 'unreachable' | 'offline', reason?: string) {
    return this.client.publishJson(
      `${this.root}/drives/${id}/availability`,
      { status, ts: Date.now(), ...(reason ? { reason } : {}) },
      { qos: 1, retain: true },
    );
  }

  state(id: string, fields: Record<string, unknown>) {
    return this.client.publishJson(
      `${this.root}/drives/${id}/state`,
      {
        driveId: id,
        ts: Date.now(),
        seq: this.#seq++,
        cia402: 'SWITCH_ON_DISABLED',
        mode: null,
        position: 0,
        velocity: 0,
        torque: 0,
        temperature: 30,
        voltage: 48,
        targetReached: true,
        fault: null,
        ...fields,
      },
      { qos: 1, retain: true },
    );
  }

  event(id: string, body: Record<string, unknown>) {
    return this.client.publishJson(
      `${this.root}/drives/${id}/events`,
      { eventId: randomUUID(), driveId: id, ts: Date.now(), ...body },
      { qos: 1 },
    );
  }

  /** Finish a held command. */
  release(commandId: string, answer: FinalAnswer = { status: 'completed' }): void {
    const k = this.#known.get(commandId);
    if (!k || k.final) throw new Error(`no held command ${commandId}`);
    this.#finish(k, answer);
  }

  held(): string[] {
    return [...this.#known.entries()].filter(([, k]) => !k.final).map(([id]) => id);
  }

  #onCommand(
    driveId: string,
    cmd: Record<string, unknown>,
    props: { responseTopic?: string; correlationData?: Buffer } | undefined,
  ): void {
    const commandId = String(cmd.commandId);
    const reply = (r: Record<string, unknown>) => {
      if (props?.responseTopic) {
        void this.client.publishJson(props.responseTopic, r, {
          qos: 1,
          properties: props.correlationData ? { correlationData: props.correlationData } : {},
        });
      } else if (typeof cmd.replyTo === 'string') {
        void this.client.publishJson(cmd.replyTo, r, { qos: 1 });
      }
    };
    const known = this.#known.get(commandId);
    if (known) {
      if (known.final) reply(known.final);
      else known.reply = reply; // the latest sender hears the result
      return;
    }
    const behave = this.behaviour.get(driveId) ?? (() => ({ status: 'completed' as const }));
    const what = behave(cmd);
    if (what === 'silent') return;
    const k: Known = { driveId, cmd, reply };
    this.#known.set(commandId, k);
    void this.event(driveId, {
      type: 'command',
      commandId,
      commandType: cmd.type,
      phase: 'received',
    });
    if (what === 'alive') return;
    this.executed.push(cmd);
    if (what === 'hold') return;
    if ('accepted' in what) {
      k.reply(this.#reply(k, 'accepted'));
      void this.event(driveId, {
        type: 'command',
        commandId,
        commandType: cmd.type,
        phase: 'accepted',
      });
      if (what.after !== 'hold') this.#finish(k, what.after);
      return;
    }
    this.#finish(k, what);
  }

  #reply(k: Known, status: string, error?: FinalAnswer['error']) {
    return {
      commandId: k.cmd.commandId,
      status,
      ts: Date.now(),
      driveId: k.driveId,
      type: k.cmd.type,
      ...(error ? { error } : {}),
    };
  }

  #finish(k: Known, a: FinalAnswer): void {
    k.final = this.#reply(k, a.status, a.error);
    k.reply(k.final);
    void this.event(k.driveId, {
      type: 'command',
      commandId: k.cmd.commandId,
      commandType: k.cmd.type,
      phase: a.status,
      ...(a.error ? { error: a.error } : {}),
    });
  }
}
