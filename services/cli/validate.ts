/**
 * `servofleet validate [--config FILE]`: load the fleet file exactly as every service
 * will, load each drive's profile, and print what the file describes, including how
 * much of each link's capacity the configured poll rates use. Exit 0 when valid,
 * 1 with the path of every bad field when not.
 */
import type { profiles } from '../../firmware-protocol/src/index.ts';
import type { Fleet, LinkConfig } from '../runtime/src/index.ts';
import { loadFleetWithProfiles } from './fleet-profiles.ts';
import { linkPollLoad } from './link-load.ts';
import type { CommandIo } from './main.ts';
import { commonArgs } from './main.ts';

export async function validateCommand(args: string[], io: CommandIo): Promise<number> {
  const { values } = commonArgs(args);
  if (values.help) {
    io.out(
      'usage: servofleet validate [--config FILE]\ncheck a fleet file and print what it describes',
    );
    return 0;
  }
  const { path, fleet, profiles } = loadFleetWithProfiles(values.config, io.env, io.cwd);
  for (const line of describeFleet(path, fleet, profiles)) io.out(line);
  io.out('fleet file is valid');
  return 0;
}

type Profile = profiles.DriveProfile;

function describeFleet(path: string, fleet: Fleet, byName: Map<string, Profile>): string[] {
  const out: string[] = [];
  out.push(`fleet file   ${path}`);
  out.push(`topic root   ${fleet.root}`);
  out.push(
    `broker       ${fleet.broker.url}${fleet.broker.embedded ? ' (embedded aedes broker)' : ''}`,
  );
  const tls = fleet.broker.tls;
  if (tls) {
    out.push(
      `  TLS        CA ${tls.ca ?? "Node's"}${tls.cert ? `, client certificate ${tls.cert}` : ''}${tls.rejectUnauthorized ? '' : ', NOT CHECKING the broker certificate'}`,
    );
  }
  for (const link of fleet.links) {
    out.push('');
    out.push(
      `link ${link.id}  ${link.protocol}  ${link.transport}  ${link.baud} baud ${frameFormat(link)}`,
    );
    for (const d of link.drives) {
      const lim = d.limits?.position ? `  position [${d.limits.position.join(', ')}]` : '';
      out.push(
        `  ${d.id.padEnd(10)} unit ${String(d.unit).padEnd(4)} ${d.profile.padEnd(10)} ${d.pollHz} Hz${lim}`,
      );
    }
    const load = linkPollLoad(link, byName);
    out.push(
      `  poll load: ${load.transactionsPerSecond.toFixed(0)} transactions/s of a theoretical ` +
        `${load.capacityPerSecond.toFixed(0)}/s (${(load.utilisation * 100).toFixed(0)}% of the link)` +
        (load.utilisation > 0.9 ? '  WARNING: over 90%, polls will fall behind' : ''),
    );
  }
  for (const line of fleet.lines) {
    out.push('');
    out.push(`line ${line.id}`);
    for (const s of line.stations) {
      out.push(
        `  station ${s.id.padEnd(10)} ${s.drives.join(', ')}${s.bypassable ? '  (bypassable)' : ''}`,
      );
    }
  }
  out.push('');
  const g = fleet.gateway;
  const roles = g.apiKeys.map((k) => `${k.name} (${k.role})`).join(', ') || 'none';
  out.push(`gateway      ${g.https ? 'https' : 'http'}://${g.host}:${g.port}  API keys: ${roles}`);
  if (g.https) out.push(`  HTTPS      certificate ${g.https.cert}`);
  if (g.journals) out.push(`  events     history from ${g.journals.join(', ')}`);
  const sim = fleet.simulator;
  if (sim) {
    out.push(
      `simulator    control API http://${sim.host}:${sim.controlPort}  seed ${sim.seed}  physics ${sim.physicsHz} Hz`,
    );
    for (const sl of sim.links) {
      const link = fleet.links.find((l) => l.id === sl.link)!;
      const n = sl.drives?.length ?? link.drives.length;
      out.push(
        `  serves ${sl.link} on ${sl.listen} (${n} drives${sl.paced ? `, paced at ${link.baud} baud` : ', unpaced'})`,
      );
    }
  }
  return out;
}

function frameFormat(link: LinkConfig): string {
  return link.parity === 'none' ? '8N1' : link.parity === 'even' ? '8E1' : '8O1';
}
