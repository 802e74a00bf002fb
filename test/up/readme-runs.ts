/**
 * The README commands that test/up/up.test.ts runs against a running `servofleet up`,
 * and what each must print. The commands themselves come from README.md at test time
 * (readme-extract.ts); this file only says how to recognise each kind, how to point it
 * at the test's fleet, and what a user should see.
 *
 * A command is run with `bash -c` exactly as written, except that:
 * - the documented ports (1883, 8080, 3100, 9101, … from config/demo-fleet.yaml) become
 *   the test fleet's free ports, and a `FILE` placeholder becomes the test's fleet file;
 * - `servofleet` is run as `node <repo>/bin/servofleet.js` (what a clone has);
 * - an unbounded `mosquitto_sub` gets `-C 3 -W 10` (three messages, ten seconds at most);
 * - curl reads a test curlrc (CURL_HOME): `--fail-with-body` so that an HTTP error is a
 *   non-zero exit, `--max-time`, and the status code appended to its output.
 * Every run has a deadline; a command that runs until stopped (`servofleet sim
 * --scenario …`) gets SIGINT once what it should do is seen, and must then exit 0.
 *
 * test/readme-commands.test.ts counts a README command as run here when one of
 * README_RUNS matches it.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { expect } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { type ReadmeCommand, shellWords } from './readme-extract.ts';

export interface RunContext {
  /** The repository: the working directory of every command but `scratch` ones. */
  root: string;
  /** The test's copy of the demo fleet, on free loopback ports. */
  fleetPath: string;
  /** Documented port (config/demo-fleet.yaml) → the test fleet's port. */
  ports: ReadonlyMap<number, number>;
  topicRoot: string;
  driveIds: readonly string[];
  linkIds: readonly string[];
  /** An empty directory for commands that write files by relative path. */
  scratch: string;
  /** A second copy of the fleet, for a second simulator (`servofleet sim --scenario …`). */
  simFleetPath: string;
  simControlPort: number;
  /** Holds the test curlrc: CURL_HOME for every command. */
  curlHome: string;
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface ReadmeRun {
  what: string;
  matches(cmd: ReadmeCommand): boolean;
  /** Run in ctx.scratch rather than the repository. */
  scratch?: boolean;
  /** Before the run (e.g. the directories a redirect writes into). */
  prepare?(cmd: ReadmeCommand, ctx: RunContext): void;
  env?(ctx: RunContext): NodeJS.ProcessEnv;
  /** A command that runs until stopped: polled until true, then SIGINT. */
  until?(out: string, cmd: ReadmeCommand, ctx: RunContext): boolean | Promise<boolean>;
  /** Called with exit code 0 already checked. */
  check(r: RunResult, cmd: ReadmeCommand, ctx: RunContext): void | Promise<void>;
}

/** The test curlrc: fail on HTTP errors but keep the body, bound the time, show the status. */
export const CURLRC = [
  'silent',
  'show-error',
  'fail-with-body',
  'max-time = 20',
  'write-out = "\\nHTTP %{http_code}\\n"',
  '',
].join('\n');

/** What `bash -c` runs for a README command against the test fleet. */
export function runnable(cmd: ReadmeCommand, ctx: RunContext): string {
  let text = cmd.text;
  if (cmd.kind === 'usage') text = text.replace(/\[([^\]]*)\]/g, '$1');
  text = text.replace(/\bFILE\b/g, quote(ctx.fleetPath));
  text = text.replace(
    /\b(127\.0\.0\.1|localhost):(\d+)\b/g,
    (_, host: string, port: string) => `${host}:${mapPort(Number(port), ctx, cmd)}`,
  );
  if (/\bmosquitto_(sub|pub)\b/.test(text)) {
    text = text.replace(
      /(\s-p\s+)(\d+)\b/g,
      (_, flag: string, port: string) => `${flag}${mapPort(Number(port), ctx, cmd)}`,
    );
  }
  text = text.replace(
    /(^|[;&|(]\s*|\b(?:do|then)\s+)servofleet(?=\s|$)/gm,
    `$1node ${quote(join(ctx.root, 'bin/servofleet.js'))}`,
  );
  const sub = /\bmosquitto_sub\b/;
  if (sub.test(text)) {
    const bounds = `${/\s-C\s/.test(text) ? '' : ' -C 3'}${/\s-W\s/.test(text) ? '' : ' -W 10'}`;
    text = text.replace(sub, `mosquitto_sub${bounds}`);
  }
  return text;
}

function mapPort(port: number, ctx: RunContext, cmd: ReadmeCommand): number {
  const to = ctx.ports.get(port);
  if (to === undefined) {
    throw new Error(
      `README.md:${cmd.line} uses port ${port}, which is not a port of config/demo-fleet.yaml ` +
        `that the test fleet moves to a free one: ${cmd.text}`,
    );
  }
  return to;
}

function quote(s: string): string {
  return /^[\w./-]+$/.test(s) ? s : `'${s.replaceAll("'", `'\\''`)}'`;
}

interface Curl {
  method: string;
  url: URL;
  data: unknown;
}

/** The request a README `curl` line makes (undefined for anything else). */
export function curlOf(cmd: ReadmeCommand): Curl | undefined {
  if (!/^curl\s/.test(cmd.text) || /[;&|]/.test(cmd.text.replace(/'[^']*'/g, ''))) return;
  const words = shellWords(cmd.text);
  let method: string | undefined;
  let data: string | undefined;
  let url: URL | undefined;
  for (let k = 1; k < words.length; k++) {
    const w = words[k]!;
    if (w === '-X' || w === '--request') method = words[++k];
    else if (['-d', '--data', '--data-raw', '--data-binary'].includes(w)) data = words[++k];
    else if (/^https?:\/\//.test(w)) url = new URL(w);
  }
  if (!url) return;
  return {
    method: method ?? (data === undefined ? 'GET' : 'POST'),
    url,
    data: data === undefined ? undefined : JSON.parse(data),
  };
}

/** curl's output under CURLRC: the body, then `HTTP <status>`. */
function response(r: RunResult): { status: number; body: string; json: () => unknown } {
  const m = /\n?HTTP (\d{3})\n$/.exec(r.stdout);
  expect(m, `curl printed no status line: ${r.stdout}`).not.toBeNull();
  const body = r.stdout.slice(0, m!.index);
  return { status: Number(m![1]), body, json: () => JSON.parse(body) };
}

const curl = (method: string, path: RegExp) => (cmd: ReadmeCommand) => {
  const c = curlOf(cmd);
  return c !== undefined && c.method === method && path.test(c.url.pathname);
};

const servofleet = (pattern: RegExp) => (cmd: ReadmeCommand) => pattern.test(cmd.text);

export const README_RUNS: readonly ReadmeRun[] = [
  {
    what: 'gateway: the drive list',
    matches: curl('GET', /^\/api\/v1\/drives$/),
    check(r, _cmd, ctx) {
      const res = response(r);
      expect(res.status).toBe(200);
      const { drives } = res.json() as { drives: { id: string }[] };
      expect(drives.map((d) => d.id).sort()).toEqual([...ctx.driveIds].sort());
    },
  },
  {
    what: 'gateway: a drive command, answered once it is done',
    matches: curl('POST', /^\/api\/v1\/drives\/[^/]+\/commands$/),
    check(r, cmd) {
      const c = curlOf(cmd)!;
      const res = response(r);
      expect(res.status, res.body).toBe(200);
      expect(res.json()).toMatchObject({
        status: 'completed',
        driveId: c.url.pathname.split('/')[4],
        type: (c.data as { type: string }).type,
      });
    },
  },
  {
    what: 'gateway: a line action, accepted by the line controller',
    matches: curl('POST', /^\/api\/v1\/lines\/[^/]+\/(start|stop|estop|reset|rejoin)$/),
    check(r, cmd) {
      const [, , , , lineId, action] = curlOf(cmd)!.url.pathname.split('/');
      const res = response(r);
      expect([200, 202], res.body).toContain(res.status);
      const body = res.json() as { status: string };
      expect(body).toMatchObject({ lineId, type: action });
      expect(['accepted', 'completed']).toContain(body.status);
    },
  },
  {
    what: 'simulator: inject a fault',
    matches: curl('POST', /^\/sim\/faults$/),
    check(r, cmd) {
      const injected = curlOf(cmd)!.data;
      const res = response(r);
      expect(res.status, res.body).toBe(201);
      const body = res.json() as { injected: unknown; faults: { fault: unknown }[] };
      expect(body.injected).toEqual(injected);
      expect(body.faults.some((f) => isDeepStrictEqual(f.fault, injected))).toBe(true);
    },
  },
  {
    what: "a service's Prometheus metrics",
    matches: curl('GET', /^\/metrics$/),
    check(r) {
      const res = response(r);
      expect(res.status).toBe(200);
      expect(res.body).toMatch(/^# TYPE servofleet_\w+ \w+$/m);
      expect(res.body).toMatch(/^servofleet_\w+(\{[^}]*\})? \S+$/m);
    },
  },
  {
    what: 'mosquitto_sub: the fleet on MQTT',
    // Over TLS (`--cafile`) it is test/deploy/tls.test.ts's: the demo fleet is plain MQTT.
    matches: (cmd) => /^mosquitto_sub\s/.test(cmd.text) && !cmd.text.includes('--cafile'),
    check(r, _cmd, ctx) {
      const lines = r.stdout.trim().split('\n');
      expect(lines.length, r.stdout).toBe(3);
      for (const l of lines) expect(l).toMatch(new RegExp(`^${ctx.topicRoot}/\\S+ \\{.*\\}$`));
    },
  },
  {
    what: 'servofleet validate',
    matches: servofleet(/^servofleet validate\b/),
    check(r, _cmd, ctx) {
      expect(r.stdout).toContain('fleet file is valid');
      for (const id of [...ctx.linkIds, ...ctx.driveIds]) expect(r.stdout).toContain(id);
    },
  },
  {
    what: 'servofleet acl, printed',
    matches: servofleet(/^servofleet acl\b[^>]*$/),
    check(r, _cmd, ctx) {
      const users = [...r.stdout.matchAll(/^user (\S+)$/gm)].map((m) => m[1]);
      expect(users).toEqual(expect.arrayContaining(ctx.linkIds.map((l) => `device-${l}`)));
      expect(users).toEqual(expect.arrayContaining(['gateway', 'line', 'journal', 'dashboard']));
    },
  },
  {
    what: 'servofleet acl, into the file Mosquitto reads',
    matches: servofleet(/^servofleet acl\b.*>\s*\S+$/),
    scratch: true,
    prepare(cmd, ctx) {
      mkdirSync(join(ctx.scratch, dirname(redirectTarget(cmd))), { recursive: true });
    },
    check(_r, cmd, ctx) {
      // The test fleet differs from the demo fleet only in ports and paths, which the
      // ACL does not name: the committed file (generated for the demo fleet) must match.
      const target = redirectTarget(cmd);
      expect(readFileSync(join(ctx.scratch, target), 'utf8').trim()).toBe(
        readFileSync(join(ctx.root, target), 'utf8').trim(),
      );
    },
  },
  {
    what: 'servofleet sim with a scenario',
    // Not the usage line: `servofleet up` runs the simulator that line describes.
    matches: (cmd) => cmd.kind !== 'usage' && /^servofleet sim\b.*--scenario\s+\S+$/.test(cmd.text),
    env: (ctx) => ({ SERVOFLEET_CONFIG: ctx.simFleetPath }),
    // Running until the scenario's first fault is active in the simulator.
    async until(_out, cmd, ctx) {
      const want = firstInject(cmd, ctx);
      try {
        const res = await fetch(`http://127.0.0.1:${ctx.simControlPort}/sim/faults`, {
          signal: AbortSignal.timeout(2000),
        });
        const { faults } = (await res.json()) as { faults: { fault: unknown }[] };
        return faults.some((f) => isDeepStrictEqual(f.fault, want));
      } catch {
        return false;
      }
    },
    check(r) {
      expect(r.stdout).toContain('scenario step');
    },
  },
  {
    what: 'compose: the Mosquitto password file, one user per service',
    matches: (cmd) => cmd.kind === 'shell' && /\bmosquitto_passwd\b/.test(cmd.text),
    scratch: true,
    check(_r, cmd, ctx) {
      const words = shellWords(cmd.text);
      const file = words[words.indexOf('mosquitto_passwd') + 2]!;
      const users = readFileSync(join(ctx.scratch, file), 'utf8')
        .trim()
        .split('\n')
        .map((l) => l.split(':')[0]);
      const aclUsers = [
        ...readFileSync(join(ctx.root, 'config/mosquitto/acl'), 'utf8').matchAll(/^user (\S+)$/gm),
      ].map((m) => m[1]);
      expect(users.sort()).toEqual(aclUsers.sort());
    },
  },
];

function redirectTarget(cmd: ReadmeCommand): string {
  return /(?<!\d)>\s*(\S+)$/.exec(cmd.text)![1]!;
}

function firstInject(cmd: ReadmeCommand, ctx: RunContext): unknown {
  const words = shellWords(cmd.text);
  const file = words[words.indexOf('--scenario') + 1]!;
  const scenario = parseYaml(readFileSync(join(ctx.root, file), 'utf8')) as {
    steps: { inject?: unknown }[];
  };
  return scenario.steps.find((s) => s.inject !== undefined)!.inject;
}

/** The one run for a README command, or undefined; two matching runs is a mistake here. */
export function runFor(cmd: ReadmeCommand): ReadmeRun | undefined {
  const found = README_RUNS.filter((r) => r.matches(cmd));
  if (found.length > 1) {
    throw new Error(
      `README.md:${cmd.line}: ${found.map((r) => r.what).join(' and ')} both match ${cmd.text}`,
    );
  }
  return found[0];
}
