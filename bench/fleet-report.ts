/**
 * The fleet benchmark's rows (bench/fleet.bench.ts): per N, and how the cost grows with N.
 */
import type { Probe } from './fleet-client.ts';
import { BUS, POLL_HZ } from './fleet-layout.ts';
import { percentile, type Row } from './harness.ts';

const SUITE = 'fleet';

export interface Measured {
  n: number;
  /** Every drive enabled and holding position: telemetry at every poll, state only on a change. */
  standing: boolean;
  links: number;
  broker: string;
  /** % of one core, by service kind. */
  cpu: Map<string, number>;
  /** Peak RSS over the window, bytes, by service kind (summed over its processes). */
  rss: Map<string, number>;
  benchCpu: number;
  /** Busy cores of the whole machine not accounted for by the stack or this process, %. */
  otherCpu: number;
  stateRate: number;
  /** Successful polls/s, from the device processes (undefined when one did not answer). */
  pollRate: number | undefined;
  /** PUBLISH packets/s the broker sent to subscribers (Mosquitto's $SYS). */
  delivered: number | undefined;
  moving: number;
  motion: { failed: Map<string, number>; retried: number };
  /** How long starting and setting in motion took. */
  phases: string;
  probe: Probe;
  profiles: string[];
  /**
   * When a later window is the figure (the target fleet, once settled): the first
   * window's CPU and polls, and when it began (s after the fleet was set moving).
   */
  first?: { cpu: Map<string, number>; pollRate: number | undefined; atS: number };
  /** When the window reported began, s after the fleet was set moving. */
  atS?: number;
  /** The stack's CPU in 5 s steps from the motion on, each window as one step. */
  steps?: number[];
}

const MB = 2 ** 20;
/** The services of the stack proper; the simulator stands in for the drives. */
export const STACK = ['device', 'gateway', 'journal', 'broker'];
export const TARGET = { drives: 500, cpu: 100, rssMB: 1536 };

const sum = (m: Map<string, number>, kinds: string[]) =>
  kinds.reduce((a, k) => a + (m.get(k) ?? 0), 0);

/** Least squares y = a + b·x, with R². */
function lineFit(xs: number[], ys: number[]): { a: number; b: number; r2: number } {
  const n = xs.length;
  const mx = xs.reduce((p, q) => p + q, 0) / n;
  const my = ys.reduce((p, q) => p + q, 0) / n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    sxy += (xs[i]! - mx) * (ys[i]! - my);
    sxx += (xs[i]! - mx) ** 2;
    syy += (ys[i]! - my) ** 2;
  }
  const b = sxx === 0 ? 0 : sxy / sxx;
  return { a: my - b * mx, b, r2: syy === 0 ? 1 : (sxy * sxy) / (sxx * syy) };
}

export function rowsOf(m: Measured): Row[] {
  if (m.standing) return standingRows(m);
  const stackCpu = sum(m.cpu, STACK);
  const simCpu = m.cpu.get('sim') ?? 0;
  const stackRss = sum(m.rss, STACK) / MB;
  const simRss = (m.rss.get('sim') ?? 0) / MB;
  const atTarget = m.n === TARGET.drives;
  const f1 = (v: number) => v.toFixed(1);
  const lat = [...m.probe.ms].sort((a, b) => a - b);
  const http = [...m.probe.httpMs].sort((a, b) => a - b);
  const failures = [...m.motion.failed].map(([k, v]) => `${v}× ${k}`).join(', ');
  const name = (what: string) => `${m.n} drives: ${what}`;
  // % of a core → µs of CPU per poll made (each a telemetry message).
  const polls = m.pollRate ?? 0;
  const perMsg = (pct: number) => ((pct * 10_000) / Math.max(1, polls)).toFixed(0);
  return [
    {
      suite: SUITE,
      name: name('CPU, stack without simulator'),
      value: stackCpu,
      unit: '% of one core',
      ...(atTarget ? { reference: { name: 'target', value: TARGET.cpu } } : {}),
      note:
        `${keptUp(m) ? '' : `DID NOT KEEP UP (${Math.round((100 * polls) / (m.n * POLL_HZ))}% of the poll rate): `}` +
        `${m.atS !== undefined ? `from ${m.atS} s after set moving: ` : ''}` +
        `${m.links} link${m.links > 1 ? 's' : ''} of ≤ ${BUS.perLink} ${BUS.name} drives at ${POLL_HZ} Hz, ` +
        `unpaced TCP: ${m.links} device process${m.links > 1 ? 'es' : ''} ${f1(m.cpu.get('device') ?? 0)}%, ` +
        `gateway ${f1(m.cpu.get('gateway') ?? 0)}%, journal ${f1(m.cpu.get('journal') ?? 0)}%, ` +
        `broker (${m.broker}) ${f1(m.cpu.get('broker') ?? 0)}%; ` +
        `per poll ${perMsg(stackCpu)} µs of CPU (device ${perMsg(m.cpu.get('device') ?? 0)}, ` +
        `gateway ${perMsg(m.cpu.get('gateway') ?? 0)}, broker ${perMsg(m.cpu.get('broker') ?? 0)}; ` +
        `the target is ${(10_000 * TARGET.cpu) / (TARGET.drives * POLL_HZ)} µs); simulator ${f1(simCpu)}% ` +
        `(stack with it ${f1(stackCpu + simCpu)}%); this process (subscriber, probes) ` +
        `${f1(m.benchCpu)}%, other load on the machine ${f1(m.otherCpu)}%`,
    },
    ...(m.first
      ? [
          {
            suite: SUITE,
            name: name(`CPU, stack without simulator, ${m.first.atS} s after set moving`),
            value: sum(m.first.cpu, STACK),
            unit: '% of one core',
            note:
              `the first window, as the other sizes are measured; the figure above is the ` +
              `window from ${m.atS} s on (warm-up: the device processes' JIT); per poll ` +
              `${((sum(m.first.cpu, STACK) * 10_000) / Math.max(1, m.first.pollRate ?? 0)).toFixed(0)} µs; ` +
              `the stack's CPU in 5 s steps from the motion on (each window one step): ` +
              `${(m.steps ?? []).map((x) => x.toFixed(0)).join(' ')} %`,
          },
        ]
      : []),
    {
      suite: SUITE,
      name: name('RSS, stack without simulator'),
      value: stackRss,
      unit: 'MB',
      ...(atTarget ? { reference: { name: 'target', value: TARGET.rssMB } } : {}),
      note:
        `peak over the window: device processes ${f1((m.rss.get('device') ?? 0) / MB)} MB, ` +
        `gateway ${f1((m.rss.get('gateway') ?? 0) / MB)}, journal ${f1((m.rss.get('journal') ?? 0) / MB)}, ` +
        `broker ${f1((m.rss.get('broker') ?? 0) / MB)}; simulator ${f1(simRss)} MB (with it ${f1(stackRss + simRss)} MB)`,
    },
    {
      suite: SUITE,
      name: name('polls/s'),
      value: polls,
      unit: 'polls/s',
      reference: { name: `${m.n} × ${POLL_HZ} Hz`, value: m.n * POLL_HZ },
      note:
        `${m.pollRate === undefined ? 'polls not counted; ' : ''}each poll a telemetry message ` +
        `(QoS 0, no subscriber); ${Math.round(m.stateRate)} state messages/s ` +
        `(${(m.stateRate / Math.max(1, m.n)).toFixed(1)} per drive: on the move, one per ` +
        `stateIntervalMs = 200 ms, and each change of state, mode, target reached or fault); ` +
        `${m.moving} of ${m.n} drives seen moving${failures ? ` (not set in motion: ${failures})` : ''}` +
        `${m.motion.retried ? `, ${m.motion.retried} commands tried again to get there` : ''}; ` +
        (m.delivered !== undefined
          ? `the broker delivered ${Math.round(m.delivered)} PUBLISH/s (state to the gateway and ` +
            'this subscriber, replies, $SYS)'
          : 'no broker-wide count (the embedded broker has no $SYS counters)'),
    },
    {
      suite: SUITE,
      name: name('state latency p99'),
      value: percentile(lat, 99),
      unit: 'ms',
      note:
        `simulator bus-voltage step → first state message showing it at a subscriber, ` +
        `across processes: p50 ${f1(percentile(lat, 50))} ms, ${lat.length} samples` +
        `${m.probe.missed ? `, ${m.probe.missed} not seen within 2 s` : ''}; includes the ` +
        `control-API request that makes the step (round trip p50 ${f1(percentile(http, 50))}, ` +
        `p99 ${f1(percentile(http, 99))} ms); poll period ${1000 / POLL_HZ} ms`,
    },
  ];
}

/** The run made (nearly) every poll: N drives really ran at 20 Hz. */
export const keptUp = (m: Measured) => (m.pollRate ?? 0) >= 0.95 * m.n * POLL_HZ;

/** A standing fleet: what it costs per poll (each a telemetry message), and whether every poll ran. */
function standingRows(m: Measured): Row[] {
  const stackCpu = sum(m.cpu, STACK);
  const f1 = (v: number) => v.toFixed(1);
  const polls = m.pollRate ?? 0;
  const kept = polls >= 0.95 * m.n * POLL_HZ;
  const perPoll = (pct: number) => ((pct * 10_000) / Math.max(1, polls)).toFixed(0);
  const lat = [...m.probe.ms].sort((a, b) => a - b);
  const failures = [...m.motion.failed].map(([k, v]) => `${v}× ${k}`).join(', ');
  const name = (what: string) => `${m.n} standing drives: ${what}`;
  return [
    {
      suite: SUITE,
      name: name('CPU, stack without simulator'),
      value: stackCpu,
      unit: '% of one core',
      reference: { name: 'one core', value: 100 },
      note:
        `${kept ? '' : `DID NOT KEEP UP (${Math.round((100 * polls) / (m.n * POLL_HZ))}% of the poll rate): `}` +
        `every drive enabled and holding position, polled at ${POLL_HZ} Hz: telemetry at every poll, ` +
        `state on a change only (${Math.round(m.stateRate)} msg/s: the latency probe's steps, the heartbeat); ` +
        `device processes ${f1(m.cpu.get('device') ?? 0)}%, gateway ${f1(m.cpu.get('gateway') ?? 0)}%, ` +
        `journal ${f1(m.cpu.get('journal') ?? 0)}%, broker (${m.broker}) ${f1(m.cpu.get('broker') ?? 0)}%; ` +
        `per poll ${perPoll(stackCpu)} µs of CPU (device ${perPoll(m.cpu.get('device') ?? 0)}); ` +
        `simulator ${f1(m.cpu.get('sim') ?? 0)}%; ${Math.round(polls)} polls/s` +
        `${failures ? `; not enabled: ${failures}` : ''}; the 1-core target is for the moving fleet above`,
    },
    {
      suite: SUITE,
      name: name('RSS, stack without simulator'),
      value: sum(m.rss, STACK) / MB,
      unit: 'MB',
      note: `peak over the window; device processes ${f1((m.rss.get('device') ?? 0) / MB)} MB`,
    },
    {
      suite: SUITE,
      name: name('state latency p99'),
      value: percentile(lat, 99),
      unit: 'ms',
      note:
        `bus-voltage step → first state message showing it, as above: p50 ` +
        `${f1(percentile(lat, 50))} ms, ${lat.length} samples` +
        `${m.probe.missed ? `, ${m.probe.missed} not seen within 2 s` : ''}`,
    },
  ];
}

export function growthRows(measured: Measured[]): Row[] {
  if (measured.length < 2) return [];
  // Every size as first measured (15 s after set moving), so that they compare.
  const all = measured.map((m) =>
    m.first ? { ...m, cpu: m.first.cpu, pollRate: m.first.pollRate } : m,
  );
  const big = all.find((m) => m.n === 500) ?? all.at(-1)!;
  const small = all.find((m) => m.n === 50 && m !== big) ?? all[0]!;
  const perDrive = (m: Measured) => sum(m.cpu, STACK) / m.n;
  const perKmsg = (m: Measured) => sum(m.cpu, STACK) / ((m.pollRate ?? 0) / 1000);
  const perDriveRss = (m: Measured) => sum(m.rss, STACK) / MB / m.n;
  const fitted = all.filter(keptUp);
  const xs = fitted.map((m) => m.n);
  const lagging = all.filter((m) => !keptUp(m)).map((m) => m.n);
  const fitNote = (ys: number[], unit: string, digits: number) => {
    if (fitted.length < 2) return 'too few sizes kept up with 20 Hz for a fit';
    const f = lineFit(xs, ys);
    const at = TARGET.drives;
    return (
      `fit over ${xs.join(', ')} drives: ${f.a.toFixed(digits)} ${unit} + ${f.b.toFixed(digits + 2)} ${unit} × N ` +
      `(R² ${f.r2.toFixed(3)}), i.e. ${(f.a + f.b * at).toFixed(0)} ${unit} at ${at} drives if it stays linear`
    );
  };
  const lagNote = lagging.length
    ? `; left out of the fit: ${lagging.join(', ')} drives, where the stack made < 95% of ` +
      `the ${POLL_HZ} Hz polls (the machine's CPU was the limit)`
    : '';
  const rates = (m: Measured) => `${Math.round((100 * (m.pollRate ?? 0)) / (m.n * POLL_HZ))}%`;
  return [
    {
      suite: SUITE,
      name: `CPU per drive, ${big.n} vs ${small.n} drives (stack without simulator)`,
      value: perDrive(big),
      unit: '% of one core',
      reference: { name: `${small.n} drives`, value: perDrive(small) },
      note:
        `at ${rates(big)} and ${rates(small)} of the ${POLL_HZ} Hz poll rate; ` +
        fitNote(
          fitted.map((m) => sum(m.cpu, STACK)),
          '%',
          1,
        ) +
        lagNote,
    },
    {
      suite: SUITE,
      name: `CPU per 1000 polls/s, ${big.n} vs ${small.n} drives (stack without simulator)`,
      value: perKmsg(big),
      unit: '% of one core',
      reference: { name: `${small.n} drives`, value: perKmsg(small) },
      note:
        'the cost of the work actually done (each poll: a telemetry message, and a state message ' +
        'every 200 ms on the move, the broker fanning it out, the gateway taking it in); equal ' +
        'ratios = linear',
    },
    {
      suite: SUITE,
      name: `RSS per drive, ${big.n} vs ${small.n} drives (stack without simulator)`,
      value: perDriveRss(big),
      unit: 'MB',
      reference: { name: `${small.n} drives`, value: perDriveRss(small) },
      note:
        `${fitNote(
          fitted.map((m) => sum(m.rss, STACK) / MB),
          'MB',
          0,
        )}; ` + `a device process per ${BUS.perLink}-drive link: its fixed cost is most of it`,
    },
  ];
}
