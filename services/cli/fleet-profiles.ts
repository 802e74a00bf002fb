/**
 * Loading a fleet file together with the drive profiles it names, checked against
 * each other (a profile's protocol must be its link's). Shared by every sub-command.
 */
import { profiles } from '../../firmware-protocol/src/index.ts';
import {
  type ConfigIssue,
  type Fleet,
  type FleetEnv,
  loadFleetFile,
  RuntimeError,
  resolveFleetPath,
} from '../runtime/src/index.ts';

export interface FleetWithProfiles {
  path: string;
  fleet: Fleet;
  profiles: Map<string, profiles.DriveProfile>;
}

export function loadFleetWithProfiles(
  explicit: string | undefined,
  env: FleetEnv,
  cwd: string,
): FleetWithProfiles {
  const path = resolveFleetPath(explicit, env, cwd);
  const { fleet, profilesDir } = loadFleetFile(path, env);
  let byName: Map<string, profiles.DriveProfile>;
  try {
    byName = profiles.loadProfileDir(profilesDir);
  } catch (cause) {
    const msg = cause instanceof Error ? cause.message : String(cause);
    throw new RuntimeError('CONFIG_INVALID', `drive profiles in ${profilesDir}: ${msg}`, { cause });
  }
  const issues: ConfigIssue[] = [];
  fleet.links.forEach((link, li) => {
    link.drives.forEach((d, di) => {
      const p = byName.get(d.profile);
      const at = `/links/${li}/drives/${di}/profile`;
      if (!p) issues.push({ path: at, message: `unknown profile ${d.profile}` });
      else if (p.protocol !== link.protocol) {
        issues.push({
          path: at,
          message: `profile ${d.profile} speaks ${p.protocol} but link ${link.id} is ${link.protocol}`,
        });
      } else if (d.watchHz !== undefined && p.watch === undefined) {
        issues.push({
          path: `/links/${li}/drives/${di}/watchHz`,
          message: `profile ${d.profile} has no watch objects to read`,
        });
      }
    });
  });
  if (issues.length > 0) {
    const text = issues.map((i) => `  ${i.path}: ${i.message}`).join('\n');
    throw new RuntimeError(
      'CONFIG_INVALID',
      `${path}: drive profiles do not fit the links:\n${text}`,
      { issues },
    );
  }
  return { path, fleet, profiles: byName };
}
