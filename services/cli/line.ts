/**
 * `servofleet line --line ID [--config FILE] [--resume-within MS]`: the line controller
 * of one line.
 */
import { parseArgs } from 'node:util';
import { planLine, startLineProcess } from '../line/src/index.ts';
import { createLogger, onShutdown } from '../runtime/src/index.ts';
import { loadFleetWithProfiles } from './fleet-profiles.ts';
import { COMMON_OPTIONS, type CommandIo } from './main.ts';

export async function lineCommand(args: string[], io: CommandIo): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      ...COMMON_OPTIONS,
      line: { type: 'string' },
      'resume-within': { type: 'string' },
    },
    strict: true,
  });
  if (values.help || !values.line) {
    io.out(
      'usage: servofleet line --line ID [--config FILE] [--resume-within MS]\n' +
        'run the line controller of one line: its cycle as sagas, degraded mode, estop;\n' +
        'an interrupted cycle younger than --resume-within (default 30000 ms) is resumed after a restart, an older one compensated',
    );
    return values.help ? 0 : 2;
  }
  const resumeWithin = values['resume-within'];
  if (resumeWithin !== undefined && !/^\d+$/.test(resumeWithin)) {
    io.err(`servofleet line: --resume-within takes milliseconds, not '${resumeWithin}'`);
    return 2;
  }
  const { fleet, path } = loadFleetWithProfiles(values.config, io.env, io.cwd);
  planLine(fleet, values.line); // a bad cycle is one clear error before anything connects
  const log = createLogger(`line-${values.line}`, io.env);
  const proc = await startLineProcess({
    fleet,
    lineId: values.line,
    fleetPath: path,
    log,
    ...(resumeWithin !== undefined ? { resumeWithinMs: Number(resumeWithin) } : {}),
  });
  onShutdown(log, () => proc.stop());
  await new Promise(() => {});
  return 0;
}
