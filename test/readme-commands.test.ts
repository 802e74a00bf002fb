/**
 * Every command README.md shows is one a test or CI runs, so it cannot rot (issue 7).
 *
 * Which text is a command is decided by the rule in test/up/readme-extract.ts: lines
 * of ```sh/```bash/```shell/```zsh blocks (`$ ` lines of ```console blocks), the usage
 * synopsis of the `servofleet` command, and inline code spans that start with a
 * command word and have an argument. Each must be one of:
 *
 * - **run by test/up/up.test.ts** against a running `servofleet up` (a README_RUNS
 *   entry in test/up/readme-runs.ts matches it);
 * - **in .ci/run**, as written (CI may add arguments: `npm test -- --coverage …`);
 * - for a usage line: **what the CLI's own usage says** (`servofleet <cmd> --help`:
 *   the sub-command exists and takes each option as the README shows it);
 * - **in ALLOWED below**, with the reason no test runs it as written.
 *
 * A command added to the README that none of these cover fails here, named.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../services/cli/main.ts';
import { type ReadmeCommand, readmeCommands, stripComments } from './up/readme-extract.ts';
import { README_RUNS, runFor } from './up/readme-runs.ts';

const root = resolve(import.meta.dirname, '..');
const readme = readmeCommands(readFileSync(resolve(root, 'README.md'), 'utf8'));
const ciText = readFileSync(resolve(root, '.ci/run'), 'utf8');
const pkg = JSON.parse(readFileSync(resolve(root, 'package.json'), 'utf8')) as {
  scripts: Record<string, string>;
  bin: Record<string, string>;
};

interface Allowed {
  command: string;
  reason: string;
  /** What makes the reason true, checked here. */
  proof?: () => void;
}

const startIsUp = () => expect(pkg.scripts.start).toBe('node bin/servofleet.js up');
const benchSuites = () => {
  // The suites the README's performance section names are the ones bench/run.ts has
  // (benchmarks are run by hand; see the reason).
  const suites = [
    ...readFileSync(resolve(root, 'bench/run.ts'), 'utf8').matchAll(/^\s+(\w+): \w+Suite,$/gm),
  ].map((m) => m[1]);
  const text = readFileSync(resolve(root, 'README.md'), 'utf8');
  const listed = text.match(/runs every suite \(([a-z, ]+);/)?.[1]?.split(', ');
  expect(listed?.length).toBeGreaterThan(0);
  expect([...(listed ?? [])].sort()).toEqual([...suites].sort());
  expect(pkg.scripts.bench).toBeDefined();
};

const tlsTest = readFileSync(resolve(root, 'test/deploy/tls.test.ts'), 'utf8');
/** test/deploy/tls.test.ts runs a TLS command of the README (temp paths, free ports). */
const inTlsTest =
  (...fragments: string[]) =>
  () => {
    for (const f of fragments) expect(tlsTest).toContain(f);
  };

/** README commands no test runs as written, and why. Keep it short. */
const ALLOWED: Allowed[] = [
  {
    command: 'scripts/gen-certs.sh',
    reason: 'test/deploy/tls.test.ts runs it into a temp directory, twice (the second keeps)',
    proof: inTlsTest("join(ROOT, 'scripts/gen-certs.sh')", 'execFileSync(GEN_CERTS'),
  },
  {
    command:
      'SERVOFLEET_MQTT_URL=mqtts://127.0.0.1:8883 SERVOFLEET_MQTT_CA=config/certs/ca.crt SERVOFLEET_HTTPS_CERT=config/certs/server.crt SERVOFLEET_HTTPS_KEY=config/certs/server.key node bin/servofleet.js gateway',
    reason:
      'test/deploy/tls.test.ts spawns `servofleet gateway` with exactly these variables ' +
      '(temp certificate paths, a Mosquitto TLS listener on a free port)',
    proof: inTlsTest(
      'SERVOFLEET_MQTT_URL',
      'SERVOFLEET_MQTT_CA',
      'SERVOFLEET_HTTPS_CERT',
      'SERVOFLEET_HTTPS_KEY',
    ),
  },
  {
    command: 'curl --cacert config/certs/ca.crt https://127.0.0.1:8080/healthz',
    reason: 'test/deploy/tls.test.ts runs curl --cacert against the HTTPS gateway',
    proof: inTlsTest("'--cacert'", '/healthz'),
  },
  {
    command: "mosquitto_sub -h 127.0.0.1 -p 8883 --cafile config/certs/ca.crt -t 'servofleet/#' -v",
    reason: 'test/deploy/tls.test.ts runs mosquitto_sub --cafile against the TLS listener',
    proof: inTlsTest("'--cafile'"),
  },
  {
    command: 'npm install && npm start',
    reason:
      "`npm install` is .ci/run's `npm ci` (same lock file); `npm start` is package.json's " +
      '`node bin/servofleet.js up`, which test/up/up.test.ts runs on a copy of the demo fleet ' +
      'with free ports (the documented ones may be taken on a CI machine)',
    proof: startIsUp,
  },
  {
    command: 'npm start',
    reason: 'as above: test/up/up.test.ts runs `node bin/servofleet.js up`, which it is',
    proof: startIsUp,
  },
  {
    command: 'apt-get install mosquitto mosquitto-clients socat',
    reason: '.ci/run installs these packages when they are missing',
    proof: () => {
      for (const p of ['mosquitto', 'mosquitto-clients', 'socat']) {
        expect(ciText).toContain(`need+=(${p})`);
      }
    },
  },
  {
    command: 'node bin/servofleet.js <command>',
    reason:
      'a pattern (`<command>`): test/up/up.test.ts runs every README `servofleet …` command ' +
      'in this form',
    proof: () => expect(existsSync(resolve(root, 'bin/servofleet.js'))).toBe(true),
  },
  {
    command: 'npx servofleet <command>',
    reason: "a pattern (`<command>`): npx runs the package's own bin, bin/servofleet.js",
    proof: () => expect(pkg.bin.servofleet).toBe('bin/servofleet.js'),
  },
  {
    command: 'servofleet device --link …',
    reason:
      'a pattern (`…`): `servofleet up` runs it once per link (test/up/parts.test.ts checks ' +
      'the arguments, test/up/up.test.ts runs it)',
  },
  {
    command: 'docker compose --profile sim up -d',
    reason:
      'needs a Docker daemon, which CI does not have; .ci/run checks the compose file with ' +
      '`docker-compose -f docker-compose.yml config -q`',
  },
  {
    command: 'npm run bench -- SUITE',
    reason:
      'a pattern (`SUITE`); benchmarks are run by hand, not by CI or any test (minutes of ' +
      'both cores, and timings do not belong in tests); their figures are in bench/results/',
    proof: benchSuites,
  },
  {
    command: 'npm run bench',
    reason: 'as above: run by hand, never by CI; every suite it runs is one the README lists',
    proof: benchSuites,
  },
];

/** The commands .ci/run runs: its lines and each `&&`/`||`/`;`/`|` part of them. */
function ciCommands(text: string): string[] {
  const out: string[] = [];
  for (const raw of text.split('\n')) {
    const line = stripComments(raw);
    if (line === '') continue;
    out.push(line);
    for (const part of line.split(/\s*(?:&&|\|\||;|\|)\s*/)) {
      out.push(part.replace(/^(then|do|else)\s+/, '').trim());
    }
  }
  return out;
}

const ci = ciCommands(ciText);
const inCi = (cmd: ReadmeCommand) => ci.some((c) => c === cmd.text || c.startsWith(`${cmd.text} `));

/** One message per command (usage lines aside) that nothing runs. */
function uncovered(commands: ReadmeCommand[]): string[] {
  const allowed = new Set(ALLOWED.map((a) => a.command));
  return commands
    .filter((c) => c.kind !== 'usage')
    .filter((c) => !runFor(c) && !inCi(c) && !allowed.has(c.text))
    .map(
      (c) =>
        `README.md:${c.line}: no test or CI runs \`${c.text}\`. Make test/up/up.test.ts run ` +
        'it (an entry in README_RUNS, test/up/readme-runs.ts), run it in .ci/run, or add ' +
        'it to ALLOWED in test/readme-commands.test.ts with the reason.',
    );
}

/** Option groups of a usage line: `--link ID`, `[--config FILE]`. */
const optionGroups = (usage: string) => usage.match(/\[[^\]]*\]|--[\w-]+(?: (?![-[])\S+)?/g) ?? [];

async function cliUsage(sub: string): Promise<string> {
  let text = '';
  const io = {
    out: (l: string) => {
      text += `${l}\n`;
    },
    err: (l: string) => {
      text += `${l}\n`;
    },
    env: {},
    cwd: root,
  };
  const code = await main([sub, '--help'], io);
  expect(code, text).toBe(0);
  return /^usage: (.*)$/m.exec(text)?.[1] ?? '';
}

describe('README.md commands', () => {
  it('finds commands by the rule, and nothing in the README breaks the rule', () => {
    expect(readme.problems).toEqual([]);
    expect(readme.commands.filter((c) => c.kind === 'shell').length).toBeGreaterThan(0);
    expect(readme.commands.filter((c) => c.kind === 'usage').length).toBeGreaterThan(0);
  });

  it('each one is run by test/up/up.test.ts or .ci/run, or allowed here with a reason', () => {
    const missing = uncovered(readme.commands);
    expect(missing, missing.join('\n')).toEqual([]);
  });

  it('each usage line is what `servofleet <command> --help` says', async () => {
    const usages = readme.commands.filter((c) => c.kind === 'usage');
    for (const u of usages) {
      const sub = u.text.split(' ')[1]!;
      const cli = await cliUsage(sub);
      expect(cli, `README.md:${u.line}: ${u.text}`).toMatch(new RegExp(`^servofleet ${sub}\\b`));
      const readmeGroups = optionGroups(u.text);
      const cliGroups = optionGroups(cli);
      for (const g of readmeGroups) {
        expect(cliGroups, `README.md:${u.line}: ${u.text} shows ${g}; the CLI: ${cli}`).toContain(
          g,
        );
      }
      for (const g of cliGroups.filter((x) => !x.startsWith('['))) {
        expect(readmeGroups, `README.md:${u.line}: ${u.text} lacks the required ${g}`).toContain(g);
      }
    }
  }, 60_000);

  it('each allowed command is still in the README, and what its reason says holds', () => {
    const texts = new Set(readme.commands.map((c) => c.text));
    const stale = ALLOWED.filter((a) => !texts.has(a.command)).map((a) => a.command);
    expect(stale, 'ALLOWED names commands the README no longer has').toEqual([]);
    for (const a of ALLOWED) {
      expect(a.reason.length).toBeGreaterThan(20);
      a.proof?.();
    }
  });

  it('each README_RUNS entry of test/up/readme-runs.ts runs some README command', () => {
    const unused = README_RUNS.filter((r) => !readme.commands.some((c) => r.matches(c))).map(
      (r) => r.what,
    );
    expect(unused).toEqual([]);
  });
});

describe('the rule that finds commands', () => {
  const md = [
    '# t',
    'Run `npm start`, see `servofleet up` and `mosquitto`, or `scripts/gen-certs.sh`.',
    '```sh',
    '# a comment line',
    'curl -X POST http://127.0.0.1:8080/x \\',
    '  -d \'{"a":1}\'         # trailing comment',
    '',
    'for u in a b; do',
    '  echo "$u # not a comment"; done',
    "mosquitto_sub -t 'root/#' -v",
    '```',
    '```console',
    '$ npm test',
    'Test Files  3 passed',
    '```',
    '```',
    'drive ──▶ broker',
    '```',
    '```',
    'servofleet up        [--config FILE]   the whole fleet',
    'servofleet device    --link ID [--config FILE]           one link',
    '```',
    '```yaml',
    'links: []',
    '```',
  ].join('\n');

  it('takes shell and console lines, the usage synopsis and inline commands, and nothing else', () => {
    const { commands, problems } = readmeCommands(md);
    expect(problems).toEqual([]);
    expect(commands.map((c) => [c.line, c.kind, c.text])).toEqual([
      [2, 'inline', 'npm start'],
      [2, 'inline', 'scripts/gen-certs.sh'],
      [5, 'shell', 'curl -X POST http://127.0.0.1:8080/x -d \'{"a":1}\''],
      [8, 'shell', 'for u in a b; do\n  echo "$u # not a comment"; done'],
      [10, 'shell', "mosquitto_sub -t 'root/#' -v"],
      [13, 'shell', 'npm test'],
      [20, 'usage', 'servofleet up [--config FILE]'],
      [21, 'usage', 'servofleet device --link ID [--config FILE]'],
    ]);
  });

  it('reports a command in a block without a language, and a command that never ends', () => {
    expect(readmeCommands('```\nnpm run build\n```\n').problems).toEqual([
      'README.md:2: a block without a language holds a command (npm run build): fence it as ```sh (commands) or ```text (output)',
    ]);
    expect(readmeCommands('```sh\nfor u in a; do\n  echo $u\n```\n').problems).toEqual([
      'README.md:2: the command starting here never ends (for u in a; do\n  echo $u)',
    ]);
  });

  it('fails coverage for a command nobody runs, naming it, and passes the ones something runs', () => {
    const { commands } = readmeCommands(
      [
        '```sh',
        'npm test',
        'curl http://127.0.0.1:8080/api/v1/nothing',
        'curl http://127.0.0.1:9101/metrics',
        '```',
        'Or `docker compose --profile sim up -d`.',
      ].join('\n'),
    );
    expect(uncovered(commands)).toEqual([
      'README.md:3: no test or CI runs `curl http://127.0.0.1:8080/api/v1/nothing`. Make ' +
        'test/up/up.test.ts run it (an entry in README_RUNS, test/up/readme-runs.ts), run it ' +
        'in .ci/run, or add it to ALLOWED in test/readme-commands.test.ts with the reason.',
    ]);
  });
});
