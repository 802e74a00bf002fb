/**
 * The demo line on one machine for line-controller tests and benchmarks: the device
 * rig (aedes, the simulator paced at the links' baud, both device processes over
 * in-memory links; test/device/harness.ts) plus the line controller — in-process, or
 * as a child process (`bin/servofleet.js line`) for kill -9 tests — running line-1
 * with the cycle from config/demo-fleet.yaml, its saga log in a temp directory.
 * Everything binds 127.0.0.1; every wait is bounded.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse as parseYaml, stringify } from 'yaml';
import { type LineProcess, startLineProcess } from '../../services/line/src/index.ts';
import { type Fleet, parseFleet } from '../../services/runtime/src/index.ts';
import {
  eventually,
  fleetYaml,
  type Msg,
  type Rig,
  silent,
  startRig,
  type Watcher,
} from '../device/harness.ts';

export type { Msg, Rig };
export { eventually, silent };

const ROOT = resolve(import.meta.dirname, '../..');
export const LINE = 'line-1';
export const LINE_DRIVES = ['axis-1', 'axis-2', 'axis-3', 'axis-4', 'dxl-1', 'dxl-2'];

/** line-1 of the demo fleet file (stations and cycle), to run against the test rig. */
export function demoLine(): Record<string, unknown> {
  const demo = parseYaml(readFileSync(resolve(ROOT, 'config/demo-fleet.yaml'), 'utf8')) as {
    lines: Record<string, unknown>[];
  };
  return structuredClone(demo.lines.find((l) => l.id === LINE)!);
}

/** The rig's fleet (its broker, in-memory links) with `line` as its only line. */
export function lineFleetYaml(brokerUrl: string, line: Record<string, unknown>): string {
  const raw = parseYaml(fleetYaml(brokerUrl)) as Record<string, unknown>;
  raw.lines = [line];
  return stringify(raw);
}

export interface LineRig {
  rig: Rig;
  dir: string;
  fleet: Fleet;
  fleetPath: string;
  sagaLogPath: string;
  /** Watches `servofleet/#`. */
  w: Watcher;
  line?: LineProcess;
  child?: ChildProcess;
  /**
   * Run the controller in this process; with `edit`, on an edited copy of the line (its
   * own saga log), e.g. to compare cycles on the same drives.
   */
  startInProcess(opts?: {
    resumeWithinMs?: number;
    edit?: (line: Record<string, unknown>) => void;
  }): Promise<LineProcess>;
  spawnChild(extraArgs?: string[]): ChildProcess;
  /** Send a line command and wait for its final reply. */
  command(
    type: string,
    extra?: Record<string, unknown>,
    timeoutMs?: number,
  ): Promise<Record<string, unknown>>;
  latestState(): Record<string, unknown> | undefined;
  waitState(
    pred: (s: Record<string, unknown>) => boolean,
    what: string,
    timeoutMs?: number,
  ): Promise<Record<string, unknown>>;
  events(from?: number): Record<string, unknown>[];
  close(): Promise<void>;
}

let seq = 0;

export async function startLineRig(
  edit: (line: Record<string, unknown>) => void = () => {},
): Promise<LineRig> {
  const rig = await startRig('aedes');
  const dir = mkdtempSync(join(tmpdir(), 'sf-line-'));
  const line = demoLine();
  line.sagaLog = join(dir, 'saga.jsonl');
  edit(line);
  const text = lineFleetYaml(rig.broker.url, line);
  const fleetPath = join(dir, 'fleet.yaml');
  writeFileSync(fleetPath, text);
  const fleet = parseFleet(text);
  const w = rig.watcher;
  const stateTopic = `servofleet/lines/${LINE}/state`;
  const r: LineRig = {
    rig,
    dir,
    fleet,
    fleetPath,
    sagaLogPath: join(dir, 'saga.jsonl'),
    w,
    async startInProcess(opts = {}) {
      let f = fleet;
      if (opts.edit) {
        const edited = structuredClone(line);
        edited.sagaLog = join(dir, `saga-${++seq}.jsonl`);
        opts.edit(edited);
        f = parseFleet(lineFleetYaml(rig.broker.url, edited));
      }
      r.line = await startLineProcess({
        fleet: f,
        lineId: LINE,
        fleetPath,
        log: silent,
        adminPort: 0,
        ...(opts.resumeWithinMs !== undefined ? { resumeWithinMs: opts.resumeWithinMs } : {}),
      });
      return r.line;
    },
    spawnChild(extraArgs = []) {
      r.child = spawn(
        process.execPath,
        [
          join(ROOT, 'bin/servofleet.js'),
          'line',
          '--line',
          LINE,
          '--config',
          fleetPath,
          ...extraArgs,
        ],
        { stdio: 'ignore', env: { ...process.env, LOG_LEVEL: 'warn' } },
      );
      return r.child;
    },
    async command(type, extra = {}, timeoutMs = 20_000) {
      const commandId = `t-${type}-${process.pid}-${++seq}`;
      const replyTo = `test/line-replies/${commandId}`;
      await w.client.subscribeAsync(replyTo, { qos: 1 });
      const from = w.messages.length;
      await w.publish(`servofleet/lines/${LINE}/commands`, { commandId, type, replyTo, ...extra });
      const m = await w.next(
        (m) => m.topic === replyTo && m.json.status !== 'accepted',
        `final reply to line ${type}`,
        timeoutMs,
        from,
      );
      return m.json;
    },
    latestState() {
      return w.latest(stateTopic)?.json;
    },
    async waitState(pred, what, timeoutMs = 15_000) {
      try {
        return await eventually(
          () => {
            const s = w.latest(stateTopic)?.json;
            return s && pred(s) ? s : undefined;
          },
          what,
          timeoutMs,
        );
      } catch (err) {
        // Say where the line is, and what it did last.
        const last = r
          .events()
          .filter((e) => e.type !== 'command')
          .slice(-8)
          .map((e) => JSON.stringify(e));
        throw new Error(
          `${(err as Error).message}; line state ${JSON.stringify(w.latest(stateTopic)?.json)}; last events:\n${last.join('\n')}`,
        );
      }
    },
    events(from = 0) {
      return w.messages
        .slice(from)
        .filter((m) => m.topic === `servofleet/lines/${LINE}/events`)
        .map((m) => m.json);
    },
    async close() {
      r.child?.kill('SIGKILL');
      await r.line?.stop().catch(() => {});
      await rig.close();
    },
  };
  // Every drive of the line online before anything runs.
  for (const id of LINE_DRIVES) {
    await w.next(
      (m) => m.topic === `servofleet/drives/${id}/availability` && m.json.status === 'online',
      `${id} online`,
      15_000,
    );
  }
  return r;
}

/** `received` command events per commandId on the drives' events topics. */
export function receivedCounts(w: Watcher, prefix: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const m of w.messages) {
    if (!/^servofleet\/drives\/[^/]+\/events$/.test(m.topic)) continue;
    const j = m.json;
    if (j.type !== 'command' || j.phase !== 'received') continue;
    const id = String(j.commandId);
    if (!id.startsWith(prefix)) continue;
    counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  return counts;
}
