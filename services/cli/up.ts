/**
 * `servofleet up [--config FILE]`: the whole fleet on one machine, each part in its
 * own child process exactly as compose would run it (`node bin/servofleet.js <part>`):
 * the embedded broker first (when `broker.embedded`), and once its port accepts
 * connections, the simulator and a device service per link. Children's pino lines are
 * printed human-readable under a part prefix; a part that exits is restarted with
 * backoff; Ctrl-C or SIGTERM stops everything in order (devices, simulator, broker)
 * and exits 0. A second Ctrl-C kills at once.
 *
 * Children run in their own process groups, so a terminal's Ctrl-C reaches only this
 * supervisor. If the supervisor is killed with SIGKILL its children outlive it; any
 * other exit takes them down (SIGKILL from an `exit` handler).
 */
import { resolve } from 'node:path';
import {
  type Fleet,
  packageRoot,
  probeTcpPort,
  RuntimeError,
  systemClock,
  waitForTcpPort,
} from '../runtime/src/index.ts';
import { brokerListenAddress } from './broker.ts';
import { ensureBuild } from './build.ts';
import { loadFleetWithProfiles } from './fleet-profiles.ts';
import { type CommandIo, commonArgs } from './main.ts';
import { SERVICE_NODE_FLAGS } from './node-flags.ts';
import { type PartSpec, Supervisor, spawnProcessGroup } from './supervisor.ts';
import { formatEvent } from './supervisor-output.ts';

const CLI = resolve(packageRoot(import.meta.dirname), 'bin/servofleet.js');
/** How long the broker may take to accept connections before `up` gives up. */
const BROKER_WAIT_MS = 20_000;

interface PartRule {
  /** The sub-command; also the part's name (plus the instance label). */
  command: string;
  /** Stop order: higher tiers stop first, so the broker (0) goes last. */
  tier: number;
  instances: (fleet: Fleet) => readonly { label?: string; args: string[] }[];
}

const once = (when: (f: Fleet) => boolean) => (f: Fleet) => (when(f) ? [{ args: [] }] : []);

/** The parts of a fleet, in start order. Adding a service is one line here. */
const PARTS: readonly PartRule[] = [
  { command: 'broker', tier: 0, instances: once((f) => f.broker.embedded) },
  { command: 'sim', tier: 1, instances: once((f) => (f.simulator?.links.length ?? 0) > 0) },
  {
    command: 'device',
    tier: 2,
    instances: (f) => f.links.map((l) => ({ label: l.id, args: ['--link', l.id] })),
  },
  { command: 'gateway', tier: 3, instances: once(() => true) },
  {
    command: 'line',
    tier: 3,
    instances: (f) => f.lines.map((l) => ({ label: l.id, args: ['--line', l.id] })),
  },
  { command: 'journal', tier: 1, instances: once(() => true) },
];

export interface PartContext {
  /** Absolute path of the fleet file: every part loads the same one. */
  configPath: string;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Node executable (default: this process's). */
  node?: string;
}

export function fleetParts(fleet: Fleet, ctx: PartContext): PartSpec[] {
  const env = { ...ctx.env, SERVOFLEET_CONFIG: ctx.configPath };
  return PARTS.flatMap((rule) =>
    rule.instances(fleet).map((inst) => ({
      name: inst.label ? `${rule.command} ${inst.label}` : rule.command,
      command: ctx.node ?? process.execPath,
      args: [...SERVICE_NODE_FLAGS, CLI, rule.command, ...inst.args, '--config', ctx.configPath],
      env,
      cwd: ctx.cwd,
      tier: rule.tier,
    })),
  );
}

export async function upCommand(args: string[], io: CommandIo): Promise<number> {
  const { values } = commonArgs(args);
  if (values.help) {
    io.out(
      'usage: servofleet up [--config FILE]\nrun the whole fleet on this machine: broker, simulator, device services',
    );
    return 0;
  }
  const { path, fleet } = loadFleetWithProfiles(values.config, io.env, io.cwd);
  const parts = fleetParts(fleet, { configPath: path, env: io.env, cwd: io.cwd });
  const brokerPart = parts.find((p) => p.name === 'broker');
  const brokerAddr = brokerPart ? brokerListenAddress(fleet.broker.url) : undefined;
  if (brokerAddr && (await probeTcpPort(brokerAddr.host, brokerAddr.port, 500))) {
    io.err(
      `servofleet up: something already listens on ${brokerAddr.host}:${brokerAddr.port}, where the embedded ` +
        'broker should run. Stop it, or use it: set broker.embedded: false in the fleet file ' +
        '(or point SERVOFLEET_MQTT_URL at a free port).',
    );
    return 1;
  }
  for (const line of describeFleet(fleet, path)) io.out(line);

  const fmt = {
    now: () => systemClock.wallNow(),
    color: process.stdout.isTTY === true && !io.env.NO_COLOR,
  };
  const sup = new Supervisor({
    spawn: spawnProcessGroup,
    clock: systemClock,
    report: (e) => io.out(formatEvent(e, fmt)),
  });
  const note = (msg: string) =>
    io.out(formatEvent({ type: 'output', part: 'up', stream: 'stdout', line: msg }, fmt));
  // The parts start from the bundle (plain JavaScript, ~55 MB less each than through
  // tsx), made now if the sources changed since the last one: see build.ts.
  if (!io.env.SERVOFLEET_NO_BUNDLE) await ensureBuild(note);

  let exitCode = 0;
  const abort = new AbortController();
  let stopped!: () => void;
  const done = new Promise<void>((r) => {
    stopped = r;
  });
  const stop = () => {
    abort.abort();
    sup.stop().then(stopped);
  };
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signals++;
    if (signals === 1) {
      note(`${signal}: stopping the fleet (again to kill it at once)`);
      stop();
    } else {
      note(`${signal} again: killing every part`);
      exitCode = 1;
      sup.kill();
    }
  };
  const onExit = () => sup.kill();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('SIGHUP', onSignal);
  process.on('exit', onExit);
  try {
    if (brokerPart && brokerAddr) {
      sup.start(brokerPart);
      try {
        await waitForTcpPort({
          ...brokerAddr,
          timeoutMs: BROKER_WAIT_MS,
          intervalMs: 100,
          signal: abort.signal,
        });
      } catch (err) {
        if (!abort.signal.aborted) {
          const why = err instanceof RuntimeError ? err.message : String(err);
          io.err(`servofleet up: the broker did not start (${why}); stopping`);
          exitCode = 1;
          stop();
        }
      }
    }
    if (!abort.signal.aborted) {
      for (const p of parts) if (p !== brokerPart) sup.start(p);
      note('every part started; Ctrl-C stops the fleet');
    }
    await done;
    note('stopped');
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.off('SIGHUP', onSignal);
    process.off('exit', onExit);
  }
  return exitCode;
}

/** What runs where, and how to watch it. */
export function describeFleet(fleet: Fleet, path: string): string[] {
  const out = [`servofleet up  ${path}`];
  const b = new URL(fleet.broker.url);
  const bHost = b.hostname.replace(/^\[(.*)\]$/, '$1');
  const bPort = b.port || (b.protocol === 'mqtts:' ? '8883' : '1883');
  out.push(
    `  broker     ${fleet.broker.url}  ${fleet.broker.embedded ? '(embedded aedes, MQTT 3.1.1)' : '(external: not started here)'}`,
  );
  const sim = fleet.simulator;
  const simApi = sim && `http://${sim.host}:${sim.controlPort}`;
  if (sim && sim.links.length > 0) {
    out.push(
      `  simulator  control API ${sim.controlPort === 0 ? `${sim.host}, port chosen at start (see [sim])` : `${simApi}/sim/drives`}`,
    );
  }
  for (const link of fleet.links) {
    const served = sim?.links.find((s) => s.link === link.id);
    out.push(
      `  link ${link.id}  ${link.protocol} ${link.baud} baud: ${link.drives.map((d) => d.id).join(', ')}`,
    );
    out.push(
      served
        ? `    simulator serves it on ${served.listen}; device ${link.id} opens ${link.transport}`
        : `    not simulated; device ${link.id} opens ${link.transport}`,
    );
  }
  const g = fleet.gateway;
  const gw = `${g.https ? 'https' : 'http'}://${g.host}:${g.port}`;
  // A private CA (scripts/gen-certs.sh) is what curl must be told about.
  const curl = g.https?.ca ? `curl --cacert ${g.https.ca}` : 'curl';
  out.push(`  gateway    dashboard ${gw}/  API ${gw}/api/v1  docs ${gw}/docs`);
  const demo = g.apiKeys.filter((k) => k.name.startsWith('demo-')).map((k) => k.name);
  if (demo.length > 0) out.push(`             demo API keys (loopback only): ${demo.join(', ')}`);
  for (const line of fleet.lines)
    out.push(
      `  line       ${line.id}: start it from the dashboard or POST ${gw}/api/v1/lines/${line.id}/start`,
    );
  out.push(`  journal    http://${fleet.journal.host}:${fleet.journal.port}/events`);
  out.push('watch it:');
  const tls = fleet.broker.tls;
  const subTls =
    b.protocol !== 'mqtts:'
      ? ''
      : (tls?.ca ? ` --cafile ${tls.ca}` : ' --capath /etc/ssl/certs') +
        (tls?.cert && tls.key ? ` --cert ${tls.cert} --key ${tls.key}` : '');
  out.push(`  mosquitto_sub -h ${bHost} -p ${bPort}${subTls} -t '${fleet.root}/#' -v`);
  if (sim && sim.links.length > 0 && sim.controlPort !== 0) out.push(`  curl ${simApi}/sim/drives`);
  if (g.https) out.push(`  ${curl} ${gw}/healthz`);
  if (demo.length > 0)
    out.push(`  ${curl} -H 'Authorization: Bearer ${demo[0]}' ${gw}/api/v1/drives`);
  out.push('Ctrl-C stops everything.');
  return out;
}
