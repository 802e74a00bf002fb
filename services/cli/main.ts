/**
 * The `servofleet` command. Each sub-command is one service, so that compose,
 * systemd or Kubernetes run one sub-command per container (DESIGN.md, "Running it").
 * This launcher is the one place that may reach every folder: it wires a service's
 * entry point to the fleet file; the services themselves never import each other.
 */
import { parseArgs } from 'node:util';
import { RuntimeError } from '../runtime/src/index.ts';

export interface CommandIo {
  out: (line: string) => void;
  err: (line: string) => void;
  env: NodeJS.ProcessEnv;
  cwd: string;
}

type Command = (args: string[], io: CommandIo) => Promise<number>;

const COMMANDS: Record<string, { summary: string; run: () => Promise<Command> }> = {
  acl: {
    summary: 'print the Mosquitto ACL for the fleet (one MQTT user per service)',
    run: async () => (await import('./acl.ts')).aclCommand,
  },
  build: {
    summary: 'bundle the command into .servofleet/build, so that services start without tsx',
    run: async () => (await import('./build.ts')).buildCommand,
  },
  broker: {
    summary: "run the embedded MQTT broker (aedes) at the fleet's broker.url",
    run: async () => (await import('./broker.ts')).brokerCommand,
  },
  device: {
    summary: 'run the device services of one link (--link ID)',
    run: async () => (await import('./device.ts')).deviceCommand,
  },
  gateway: {
    summary: 'run the HTTP gateway: REST API, live stream, docs and the dashboard',
    run: async () => (await import('./gateway.ts')).gatewayCommand,
  },
  journal: {
    summary: 'run the journal: every event into SQLite, queried over HTTP',
    run: async () => (await import('./journal.ts')).journalCommand,
  },
  line: {
    summary: 'run the line controller of one line (--line ID): cycles as sagas, bypass, estop',
    run: async () => (await import('./line.ts')).lineCommand,
  },
  sim: {
    summary: 'run the drive simulator (links, faults, control API)',
    run: async () => (await import('./sim.ts')).simCommand,
  },
  up: {
    summary: 'the whole fleet on this machine: broker, simulator, device services',
    run: async () => (await import('./up.ts')).upCommand,
  },
  validate: {
    summary: 'check a fleet file and print what it describes',
    run: async () => (await import('./validate.ts')).validateCommand,
  },
};

const USAGE = `usage: servofleet <command> [options]

commands:
${Object.entries(COMMANDS)
  .map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`)
  .join('\n')}

options common to every command:
  --config FILE   fleet file (default: $SERVOFLEET_CONFIG, else config/demo-fleet.yaml)
  --help          this text`;

export async function main(argv: string[], io: CommandIo = processIo()): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.out(USAGE);
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    io.err(`servofleet: unknown command '${name}'\n\n${USAGE}`);
    return 2;
  }
  try {
    return await (await command.run())(rest, io);
  } catch (err) {
    if (err instanceof RuntimeError) {
      io.err(`servofleet ${name}: ${err.code}: ${err.message}`);
      return 1;
    }
    const code = (err as { code?: unknown }).code;
    if (err instanceof TypeError && typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS')) {
      io.err(`servofleet ${name}: ${err.message}`);
      return 2;
    }
    // Any other coded error (a port in use, a bad scenario file): one clear line, exit 1.
    if (err instanceof Error && typeof code === 'string' && /^[A-Z][A-Z0-9_]+$/.test(code)) {
      io.err(`servofleet ${name}: ${code}: ${err.message}`);
      return 1;
    }
    throw err;
  }
}

/** Options every sub-command takes; a command with more spreads these into its own. */
export const COMMON_OPTIONS = {
  config: { type: 'string' },
  help: { type: 'boolean' },
} as const;

export function commonArgs(args: string[]) {
  return parseArgs({ args, options: COMMON_OPTIONS, strict: true, allowPositionals: false });
}

function processIo(): CommandIo {
  return {
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
    env: process.env,
    cwd: process.cwd(),
  };
}
