/**
 * `servofleet device --link ID [--config FILE]`: the device services of one link.
 */
import { parseArgs } from 'node:util';
import { startDeviceProcess } from '../device/src/device-process.ts';
import { createLogger, onShutdown, RuntimeError } from '../runtime/src/index.ts';
import { loadFleetWithProfiles } from './fleet-profiles.ts';
import { COMMON_OPTIONS, type CommandIo } from './main.ts';

export async function deviceCommand(args: string[], io: CommandIo): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { ...COMMON_OPTIONS, link: { type: 'string' } },
    strict: true,
  });
  if (values.help || !values.link) {
    io.out(
      'usage: servofleet device --link ID [--config FILE]\nrun the device services of every drive on one link',
    );
    return values.help ? 0 : 2;
  }
  const { fleet, profiles } = loadFleetWithProfiles(values.config, io.env, io.cwd);
  if (!fleet.links.some((l) => l.id === values.link)) {
    throw new RuntimeError(
      'CONFIG_INVALID',
      `no link '${values.link}' in the fleet file (links: ${fleet.links.map((l) => l.id).join(', ')})`,
    );
  }
  const log = createLogger(`device-${values.link}`, io.env);
  const proc = await startDeviceProcess({ fleet, linkId: values.link, profiles, log });
  onShutdown(log, () => proc.stop());
  await new Promise(() => {});
  return 0;
}
