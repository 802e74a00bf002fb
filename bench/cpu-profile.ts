/**
 * Where processes spend their CPU: top self-time functions (and files) of V8
 * `.cpuprofile`s (as `node --cpu-prof` writes them), over a time window, summed over
 * several profiles (e.g. every device process of a fleet). The profiles' timestamps
 * are microseconds of the monotonic clock, the clock of `process.hrtime.bigint()` on
 * Linux, so the window can be taken in another process.
 *
 * `node bin/run-ts.js bench/cpu-profile.ts FILE.cpuprofile... [--top N] [--from US --to US]`
 * prints the summary of whole profiles, or of a window.
 */
import { existsSync, readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

const ROOT = pathToFileURL(`${process.cwd()}/`).href;
/** Samples of a thread with nothing to do. "(program)" is native work (the event loop, I/O): busy. */
const IDLE = '(idle)';

function where(url: string): string {
  if (url === '') return '';
  let u = url.startsWith(ROOT) ? url.slice(ROOT.length) : url.replace(/^file:\/\//, '');
  // node_modules/.pnpm/x@1/node_modules/x/… → node_modules/x/…
  const nm = u.lastIndexOf('node_modules/');
  if (nm >= 0) u = u.slice(nm);
  return u;
}

const sources = new Map<string, string[] | undefined>();

/**
 * The line of a function in our TypeScript: the profile's line numbers are those of
 * tsx's output, so the declaration is looked up in the source by name.
 */
function tsLine(file: string, name: string, fallback: number): number {
  if (!file.endsWith('.ts') || file.startsWith('node_modules/') || name === '') return fallback;
  if (!sources.has(file)) {
    sources.set(file, existsSync(file) ? readFileSync(file, 'utf8').split('\n') : undefined);
  }
  const lines = sources.get(file);
  if (!lines) return fallback;
  const n = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const decl = new RegExp(
    `(function\\*?\\s+${n}\\s*[<(]|^\\s*(?:(?:public|private|static|async|get|set|readonly)\\s+)*${n}\\s*[<(]|\\b${n}\\s*[:=]\\s*(?:async\\s*)?(?:\\(|function|[a-z]\\w*\\s*=>))`,
  );
  // An implementation rather than an interface member: a body opens on the line.
  const hits = lines.flatMap((l, i) => (decl.test(l) ? [i] : []));
  const i = hits.find((h) => /(\{|=>)\s*$/.test(lines[h]!)) ?? hits[0];
  return i === undefined ? fallback : i + 1;
}

export interface ProfileSummary {
  /** CPU samples in the window that were not idle, seconds (summed over the profiles). */
  busySeconds: number;
  windowSeconds: number;
  text: string;
}

/**
 * The `top` functions by self time between `fromUs` and `toUs` (monotonic µs; the whole
 * profiles when omitted), summed over `files`, as text: share of the busy time (idle
 * left out), file:function:line.
 */
export function summariseProfiles(
  files: string[],
  fromUs = 0,
  toUs = Number.POSITIVE_INFINITY,
  top = 15,
): ProfileSummary {
  const self = new Map<string, number>();
  const byFile = new Map<string, number>();
  let busy = 0;
  let all = 0;
  for (const file of files) {
    const p = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
    const byId = new Map(p.nodes.map((n) => [n.id, n]));
    let t = p.startTime;
    for (let i = 0; i < p.samples.length; i++) {
      t += p.timeDeltas[i] ?? 0;
      if (t < fromUs || t > toUs) continue;
      // Each sample stands for the time until the next one.
      const dt = p.timeDeltas[i + 1] ?? 0;
      all += dt;
      const cf = byId.get(p.samples[i]!)?.callFrame;
      if (!cf || cf.functionName === IDLE) continue;
      busy += dt;
      const f = where(cf.url);
      const fn = cf.functionName || '(anonymous)';
      const key = f ? `${f}:${fn}:${tsLine(f, cf.functionName, cf.lineNumber + 1)}` : fn;
      self.set(key, (self.get(key) ?? 0) + dt);
      const fileKey = f || fn;
      byFile.set(fileKey, (byFile.get(fileKey) ?? 0) + dt);
    }
  }
  if (busy === 0) return { busySeconds: 0, windowSeconds: all / 1e6, text: '  (no busy samples)' };
  const pct = (v: number) => `${((100 * v) / busy).toFixed(1).padStart(5)}%`;
  const lines = [
    `  window ${fromUs}–${toUs} µs: ${(busy / 1e6).toFixed(2)} s busy in ${(all / 1e6).toFixed(1)} s of samples` +
      ` (all threads' profiles summed); self time, share of busy (native work shows as "(program)"):`,
  ];
  for (const [k, v] of [...self].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    lines.push(`  ${pct(v)}  ${k}`);
  }
  lines.push('  by file:');
  for (const [k, v] of [...byFile]
    .sort((a, b) => b[1] - a[1])
    .slice(0, Math.max(10, Math.ceil(top / 2)))) {
    lines.push(`  ${pct(v)}  ${k}`);
  }
  return { busySeconds: busy / 1e6, windowSeconds: all / 1e6, text: lines.join('\n') };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const args = process.argv.slice(2);
  const opt = (name: string, dflt: number) => {
    const i = args.indexOf(name);
    return i >= 0 ? Number(args.splice(i, 2)[1]) : dflt;
  };
  const top = opt('--top', 25);
  const from = opt('--from', 0);
  const to = opt('--to', Number.POSITIVE_INFINITY);
  if (args.length === 0) {
    console.error(
      'usage: node bin/run-ts.js bench/cpu-profile.ts FILE.cpuprofile... [--top N] [--from US --to US]',
    );
    process.exit(2);
  }
  console.log(summariseProfiles(args, from, to, top).text);
}
