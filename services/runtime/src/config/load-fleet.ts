/**
 * Loading the fleet file: read, parse YAML, clone, apply defaults, check against the
 * schema, check consistency (unique ids, unit ids, references), apply explicit
 * environment overrides, resolve file paths against the fleet file's directory, check
 * the files it names (profiles, TLS), freeze. Parsed once at start; never mutates its
 * input.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { Value } from '@sinclair/typebox/value';
import { parse as parseYaml } from 'yaml';
import { type ConfigIssue, RuntimeError } from '../errors.ts';
import { type Fleet, FleetSchema, JOURNAL_INSTANCE_PATTERN } from './fleet-schema.ts';
import { checkTlsFiles } from './tls-files.ts';

export const DEFAULT_FLEET_FILE = 'config/demo-fleet.yaml';

export interface LoadedFleet {
  fleet: Fleet;
  /** Absolute path of the fleet file. */
  path: string;
  /** Absolute path of the profiles directory. */
  profilesDir: string;
}

/** Environment variables that override the fleet file (DESIGN.md, "Running it"). */
export interface FleetEnv {
  SERVOFLEET_CONFIG?: string | undefined;
  SERVOFLEET_MQTT_URL?: string | undefined;
  SERVOFLEET_HTTP_PORT?: string | undefined;
  SERVOFLEET_SIM_PORT?: string | undefined;
  SERVOFLEET_MQTT_USERNAME?: string | undefined;
  SERVOFLEET_MQTT_PASSWORD?: string | undefined;
  /** `broker.tls.ca`, `.cert`, `.key`; a relative path is taken from the working directory. */
  SERVOFLEET_MQTT_CA?: string | undefined;
  SERVOFLEET_MQTT_CERT?: string | undefined;
  SERVOFLEET_MQTT_KEY?: string | undefined;
  /** `gateway.https.cert`, `.key`; a relative path is taken from the working directory. */
  SERVOFLEET_HTTPS_CERT?: string | undefined;
  SERVOFLEET_HTTPS_KEY?: string | undefined;
  /** `gateway.journals`: comma-separated http(s) base URLs of every journal. */
  SERVOFLEET_JOURNAL_URLS?: string | undefined;
  /** `journal.instance`: this journal replica's id. */
  SERVOFLEET_JOURNAL_INSTANCE?: string | undefined;
}

/** Which file to load: an explicit `--config`, else `SERVOFLEET_CONFIG`, else the demo fleet. */
export function resolveFleetPath(explicit: string | undefined, env: FleetEnv, cwd: string): string {
  const p = explicit ?? env.SERVOFLEET_CONFIG ?? DEFAULT_FLEET_FILE;
  return isAbsolute(p) ? p : resolve(cwd, p);
}

export function loadFleetFile(path: string, env: FleetEnv = {}): LoadedFleet {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    throw new RuntimeError('CONFIG_NOT_FOUND', `cannot read fleet file ${path}`, { cause });
  }
  const fleet = checkedFleet(text, path, env);
  resolveTlsPaths(fleet, dirname(path));
  const profilesDir = resolve(dirname(path), fleet.profilesDir);
  if (!existsSync(profilesDir)) {
    throw new RuntimeError('CONFIG_NOT_FOUND', `profiles directory ${profilesDir} does not exist`);
  }
  const missing: ConfigIssue[] = [];
  fleet.links.forEach((link, li) => {
    link.drives.forEach((d, di) => {
      if (!existsSync(resolve(profilesDir, `${d.profile}.yaml`))) {
        missing.push({
          path: `/links/${li}/drives/${di}/profile`,
          message: `no profile file ${d.profile}.yaml in ${profilesDir}`,
        });
      }
    });
  });
  if (missing.length > 0) throw invalid(path, missing);
  checkTlsFiles(fleet);
  return { fleet: deepFreeze(fleet), path, profilesDir };
}

/**
 * Pure part of loading: YAML text → checked, frozen fleet. `source` names the text in
 * errors. File paths stay as written (a relative TLS path is then read from the working
 * directory) and the files are not read: `loadFleetFile` does both.
 */
export function parseFleet(text: string, source = 'fleet file', env: FleetEnv = {}): Fleet {
  return deepFreeze(checkedFleet(text, source, env));
}

function checkedFleet(text: string, source: string, env: FleetEnv): Fleet {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (cause) {
    const msg = cause instanceof Error ? cause.message : String(cause);
    throw new RuntimeError('CONFIG_PARSE', `${source}: not valid YAML: ${msg}`, { cause });
  }
  const candidate = Value.Clone(raw ?? {});
  Value.Default(FleetSchema, candidate);
  const schemaIssues = [...Value.Errors(FleetSchema, candidate)].map((e) => ({
    path: e.path || '/',
    message: e.message,
  }));
  if (schemaIssues.length > 0) throw invalid(source, dedupe(schemaIssues));
  const fleet = candidate as Fleet;
  const issues = checkConsistency(fleet);
  if (fleet.gateway.journals) {
    const journals = journalUrls(fleet.gateway.journals, '/gateway/journals');
    fleet.gateway.journals = journals.urls;
    issues.push(...journals.issues);
  }
  if (fleet.broker.password !== undefined) {
    issues.push({
      path: '/broker/password',
      message: 'secrets do not belong in the fleet file: set SERVOFLEET_MQTT_PASSWORD',
    });
  }
  if (issues.length > 0) throw invalid(source, issues);
  applyEnv(fleet, env);
  const tlsIssues = checkTls(fleet);
  if (tlsIssues.length > 0) throw invalid(source, tlsIssues);
  return fleet;
}

/** After the environment had its say: TLS settings must fit the broker URL, certificates come with keys. */
function checkTls(fleet: Fleet): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const tls = fleet.broker.tls;
  if (tls) {
    if (!/^(mqtts|wss):\/\//.test(fleet.broker.url)) {
      issues.push({
        path: '/broker/tls',
        message: `TLS settings (broker.tls or SERVOFLEET_MQTT_CA/_CERT/_KEY) need an mqtts:// or wss:// broker url, not ${fleet.broker.url.replace(/\/\/[^@/]*@/, '//')}`,
      });
    }
    if ((tls.cert === undefined) !== (tls.key === undefined)) {
      issues.push({
        path: tls.cert === undefined ? '/broker/tls/cert' : '/broker/tls/key',
        message: 'a client certificate needs its key, and a key its certificate',
      });
    }
  }
  return issues;
}

/** Relative TLS paths in the fleet file are taken from the fleet file's directory. */
function resolveTlsPaths(fleet: Fleet, dir: string): void {
  const at = (p: string) => (isAbsolute(p) ? p : resolve(dir, p));
  const tls = fleet.broker.tls;
  if (tls?.ca) tls.ca = at(tls.ca);
  if (tls?.cert) tls.cert = at(tls.cert);
  if (tls?.key) tls.key = at(tls.key);
  const https = fleet.gateway.https;
  if (https) {
    https.cert = at(https.cert);
    https.key = at(https.key);
    if (https.ca) https.ca = at(https.ca);
  }
}

function checkConsistency(fleet: Fleet): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const linkIds = new Map<string, number>();
  const driveIds = new Map<string, string>();
  fleet.links.forEach((link, li) => {
    if (linkIds.has(link.id))
      issues.push({ path: `/links/${li}/id`, message: `duplicate link id ${link.id}` });
    linkIds.set(link.id, li);
    const units = new Set<number>();
    link.drives.forEach((d, di) => {
      const at = `/links/${li}/drives/${di}`;
      if (driveIds.has(d.id))
        issues.push({ path: `${at}/id`, message: `duplicate drive id ${d.id}` });
      driveIds.set(d.id, link.id);
      if (units.has(d.unit)) {
        issues.push({
          path: `${at}/unit`,
          message: `unit ${d.unit} is used twice on link ${link.id}`,
        });
      }
      units.add(d.unit);
      // Modbus over serial line V1.02 §2.2: slave addresses 1–247 (0 is broadcast).
      if (link.protocol === 'modbus-rtu' && (d.unit < 1 || d.unit > 247)) {
        issues.push({ path: `${at}/unit`, message: `Modbus unit id must be 1–247, got ${d.unit}` });
      }
      const pos = d.limits?.position;
      if (pos && pos[0] >= pos[1]) {
        issues.push({
          path: `${at}/limits/position`,
          message: `min ${pos[0]} must be below max ${pos[1]}`,
        });
      }
    });
  });
  fleet.lines.forEach((line, li) => {
    line.stations.forEach((s, si) => {
      s.drives.forEach((d, di) => {
        if (!driveIds.has(d)) {
          issues.push({
            path: `/lines/${li}/stations/${si}/drives/${di}`,
            message: `unknown drive ${d}`,
          });
        }
      });
    });
  });
  fleet.simulator?.links.forEach((sl, si) => {
    const li = linkIds.get(sl.link);
    if (li === undefined) {
      issues.push({ path: `/simulator/links/${si}/link`, message: `unknown link ${sl.link}` });
      return;
    }
    sl.drives?.forEach((d, di) => {
      if (driveIds.get(d) !== sl.link) {
        issues.push({
          path: `/simulator/links/${si}/drives/${di}`,
          message: `drive ${d} is not on link ${sl.link}`,
        });
      }
    });
  });
  return issues;
}

function applyEnv(fleet: Fleet, env: FleetEnv): void {
  if (env.SERVOFLEET_MQTT_URL) {
    if (!/^(mqtt|mqtts|ws|wss|tcp):\/\//.test(env.SERVOFLEET_MQTT_URL)) {
      throw new RuntimeError(
        'CONFIG_ENV_INVALID',
        `SERVOFLEET_MQTT_URL is not an MQTT URL: ${env.SERVOFLEET_MQTT_URL}`,
      );
    }
    fleet.broker.url = env.SERVOFLEET_MQTT_URL;
  }
  if (env.SERVOFLEET_MQTT_USERNAME) fleet.broker.username = env.SERVOFLEET_MQTT_USERNAME;
  if (env.SERVOFLEET_MQTT_PASSWORD) fleet.broker.password = env.SERVOFLEET_MQTT_PASSWORD;
  if (env.SERVOFLEET_HTTP_PORT)
    fleet.gateway.port = port('SERVOFLEET_HTTP_PORT', env.SERVOFLEET_HTTP_PORT);
  if (env.SERVOFLEET_SIM_PORT && fleet.simulator) {
    fleet.simulator.controlPort = port('SERVOFLEET_SIM_PORT', env.SERVOFLEET_SIM_PORT);
  }
  const ca = env.SERVOFLEET_MQTT_CA;
  const cert = env.SERVOFLEET_MQTT_CERT;
  const key = env.SERVOFLEET_MQTT_KEY;
  if (ca || cert || key) {
    fleet.broker.tls = {
      rejectUnauthorized: true,
      ...fleet.broker.tls,
      ...(ca ? { ca: resolve(ca) } : {}),
      ...(cert ? { cert: resolve(cert) } : {}),
      ...(key ? { key: resolve(key) } : {}),
    };
  }
  if (env.SERVOFLEET_JOURNAL_URLS) {
    const { urls, issues } = journalUrls(env.SERVOFLEET_JOURNAL_URLS.split(','), '');
    if (issues.length > 0) {
      throw new RuntimeError(
        'CONFIG_ENV_INVALID',
        `SERVOFLEET_JOURNAL_URLS must be comma-separated http(s) base URLs of the journals: ${issues.map((i) => `entry ${Number(i.path.slice(1)) + 1}: ${i.message}`).join('; ')}`,
      );
    }
    fleet.gateway.journals = urls;
  }
  const instance = env.SERVOFLEET_JOURNAL_INSTANCE;
  if (instance) {
    if (!new RegExp(JOURNAL_INSTANCE_PATTERN).test(instance)) {
      throw new RuntimeError(
        'CONFIG_ENV_INVALID',
        `SERVOFLEET_JOURNAL_INSTANCE must be 1–15 letters, digits, "_" or "-", got ${JSON.stringify(instance)}`,
      );
    }
    fleet.journal.instance = instance;
  }
  const httpsCert = env.SERVOFLEET_HTTPS_CERT;
  const httpsKey = env.SERVOFLEET_HTTPS_KEY;
  if (httpsCert || httpsKey) {
    const https = fleet.gateway.https;
    const c = httpsCert ? resolve(httpsCert) : https?.cert;
    const k = httpsKey ? resolve(httpsKey) : https?.key;
    if (c === undefined || k === undefined) {
      throw new RuntimeError(
        'CONFIG_ENV_INVALID',
        `${httpsCert ? 'SERVOFLEET_HTTPS_CERT needs SERVOFLEET_HTTPS_KEY' : 'SERVOFLEET_HTTPS_KEY needs SERVOFLEET_HTTPS_CERT'} (or gateway.https in the fleet file)`,
      );
    }
    fleet.gateway.https = { ...https, cert: c, key: k };
  }
}

/**
 * A journal's base URL as the gateway uses it (`{base}/events?…`): http or https, a
 * host, no credentials (fetch refuses them), no query or fragment; the path without its
 * trailing `/`. Or `{ error }` saying why not.
 */
function journalBaseUrl(text: string): string | { error: string } {
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    return { error: `not a URL: ${JSON.stringify(text)}` };
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    return { error: `${JSON.stringify(text)} is not an http:// or https:// URL` };
  }
  if (!u.hostname) return { error: `${JSON.stringify(text)} has no host` };
  if (u.username || u.password) {
    return { error: `${JSON.stringify(text)} has credentials, which the gateway cannot send` };
  }
  if (u.search || u.hash || text.includes('?') || text.includes('#')) {
    return { error: `${JSON.stringify(text)} has a query or fragment; give the base URL only` };
  }
  return `${u.protocol}//${u.host}${u.pathname.replace(/\/+$/, '')}`;
}

/**
 * The journals' base URLs (surrounding spaces dropped), and an issue for each entry that
 * is not one or is listed twice (the gateway would merge that journal's events twice).
 */
function journalUrls(
  texts: readonly string[],
  at: string,
): { urls: string[]; issues: ConfigIssue[] } {
  const issues: ConfigIssue[] = [];
  const seen = new Map<string, number>();
  texts.forEach((text, i) => {
    const u = journalBaseUrl(text.trim());
    if (typeof u !== 'string') {
      issues.push({ path: `${at}/${i}`, message: u.error });
    } else if (seen.has(u)) {
      issues.push({
        path: `${at}/${i}`,
        message: `${u} is listed twice (also entry ${seen.get(u)! + 1}): its events would be merged twice`,
      });
    } else {
      seen.set(u, i);
    }
  });
  return { urls: [...seen.keys()], issues };
}

function port(name: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) {
    throw new RuntimeError(
      'CONFIG_ENV_INVALID',
      `${name} must be a port number 0–65535, got ${value}`,
    );
  }
  return n;
}

function invalid(source: string, issues: ConfigIssue[]): RuntimeError {
  const lines = issues.map((i) => `  ${i.path}: ${i.message}`).join('\n');
  return new RuntimeError('CONFIG_INVALID', `${source} is invalid:\n${lines}`, { issues });
}

/** TypeBox reports a bad union member once per alternative; keep one line per path. */
function dedupe(issues: ConfigIssue[]): ConfigIssue[] {
  const seen = new Map<string, ConfigIssue>();
  for (const i of issues) if (!seen.has(i.path)) seen.set(i.path, i);
  return [...seen.values()];
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
