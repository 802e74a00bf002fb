/**
 * `servofleet sim [--config FILE] [--scenario FILE]`: serve every link of the fleet
 * file's simulator section, with the control API on SERVOFLEET_SIM_PORT (default
 * 3100), optionally running a scenario. Logs where each link listens.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import {
  buildControlApi,
  parseScenario,
  runScenario,
  SimError,
  type SimLinkSpec,
  Simulator,
} from '../../device-sim/src/index.ts';
import { createLogger, onShutdown, RuntimeError } from '../runtime/src/index.ts';
import { loadFleetWithProfiles } from './fleet-profiles.ts';
import { COMMON_OPTIONS, type CommandIo } from './main.ts';

export async function simCommand(args: string[], io: CommandIo): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { ...COMMON_OPTIONS, scenario: { type: 'string' } },
    strict: true,
  });
  if (values.help) {
    io.out(
      'usage: servofleet sim [--config FILE] [--scenario FILE]\nrun the drive simulator of the fleet file',
    );
    return 0;
  }
  const { fleet, profiles, path } = loadFleetWithProfiles(values.config, io.env, io.cwd);
  const simCfg = fleet.simulator;
  if (!simCfg || simCfg.links.length === 0) {
    throw new RuntimeError('CONFIG_INVALID', `${path} has no simulator section with links`);
  }
  const scenario = values.scenario
    ? parseScenario(readFileSync(values.scenario, 'utf8'), values.scenario)
    : undefined;
  const log = createLogger('sim', io.env);
  const links: SimLinkSpec[] = simCfg.links.map((sl) => {
    const link = fleet.links.find((l) => l.id === sl.link)!;
    const ids = sl.drives ?? link.drives.map((d) => d.id);
    return {
      id: link.id,
      protocol: link.protocol,
      baud: link.baud,
      parity: link.parity,
      listen: sl.listen,
      turnaroundMs: sl.turnaroundMs,
      paced: sl.paced,
      drives: link.drives
        .filter((d) => ids.includes(d.id))
        .map((d) => ({ id: d.id, unit: d.unit, profile: profiles.get(d.profile)! })),
    };
  });
  const sim = new Simulator({ seed: simCfg.seed, physicsHz: simCfg.physicsHz, links });
  const where = await sim.start();
  for (const w of where) {
    const l = links.find((x) => x.id === w.link)!;
    log.info(
      {
        link: w.link,
        address: w.address,
        protocol: l.protocol,
        baud: l.baud,
        drives: l.drives.map((d) => d.id),
      },
      `link ${w.link} listening on ${w.address}`,
    );
  }
  const api = buildControlApi(sim);
  try {
    await api.listen({ host: simCfg.host, port: simCfg.controlPort });
  } catch (cause) {
    await sim.close();
    const msg = cause instanceof Error ? cause.message : String(cause);
    throw new SimError(
      'SIM_LISTEN_FAILED',
      `control API cannot listen on ${simCfg.host}:${simCfg.controlPort}: ${msg}`,
      {
        cause,
      },
    );
  }
  const addr = api.server.address();
  const apiPort = addr && typeof addr === 'object' ? addr.port : simCfg.controlPort;
  log.info(
    { url: `http://${simCfg.host}:${apiPort}` },
    `control API on http://${simCfg.host}:${apiPort}/sim/drives`,
  );
  if (scenario) {
    const run = runScenario(sim, scenario, (step, err) => {
      if (err) log.warn({ at: step.at, err: err.message }, 'scenario step failed');
      else log.info({ at: step.at, step }, 'scenario step');
    });
    run.done.then(() => log.info({ scenario: scenario.name }, 'scenario finished'));
  }
  onShutdown(log, async () => {
    await api.close();
    await sim.close();
  });
  // Run until a signal ends the process.
  await new Promise(() => {});
  return 0;
}
