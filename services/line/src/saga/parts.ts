/**
 * The parts of a step, one at a time: a command part as intent (durable) → publish →
 * result (durable), or answered from the log, or sent again as logged; a dwell; a wait
 * for a drive's reported state. Also the commandIds: `{line}-{cycle}-{step}-{drive}`,
 * `…-comp` for its compensation, `…-r{n}` for a re-issue.
 */
import type { Command, DriveState } from '../../../contract/src/index.ts';
import type { Clock } from '../../../runtime/src/index.ts';
import type { CommandPart, Part, WaitPart } from '../cycle/parse-cycle.ts';
import type { Final } from '../drives/drive-link.ts';
import type { IntentRecord } from './records.ts';
import type { OpenCycle } from './saga-book.ts';
import type { RunnerContext } from './saga-runner.ts';

/** Attempts of one part: the first and at most three re-issues under `…-r{n}`. */
const MAX_ATTEMPTS = 4;

export function baseId(ctx: RunnerContext, cycle: number, step: number, drive: string): string {
  return `${ctx.plan.lineId}-${cycle}-${step}-${drive}`;
}

export function compId(ctx: RunnerContext, cycle: number, step: number, drive: string): string {
  return `${baseId(ctx, cycle, step, drive)}-comp`;
}

export function partIntentId(
  ctx: RunnerContext,
  open: OpenCycle,
  cycle: number,
  step: number,
  part: CommandPart,
): string {
  return (
    open.latestIntent(step, part.drive, false)?.commandId ?? baseId(ctx, cycle, step, part.drive)
  );
}

export async function runPart(
  ctx: RunnerContext,
  cycle: number,
  step: number,
  part: Part,
  signal: AbortSignal,
): Promise<Final> {
  switch (part.kind) {
    case 'dwell':
      return dwell(ctx.clock, part.ms, signal);
    case 'waitFor':
      return waitFor(ctx, part, signal);
    case 'command': {
      const open = ctx.book.summary.open!;
      return runLogged(ctx, open, {
        cycle,
        step,
        drive: part.drive,
        to: part.drive,
        comp: false,
        base: baseId(ctx, cycle, step, part.drive),
        action: part.action,
        compensate: part.compensate,
        timeoutMs: part.timeoutMs,
        signal,
      });
    }
  }
}

export function runCompensation(
  ctx: RunnerContext,
  open: OpenCycle,
  part: IntentRecord,
  signal: AbortSignal,
): Promise<Final> {
  const c = part.compensate!;
  return runLogged(ctx, open, {
    cycle: part.cycle,
    step: part.step,
    drive: part.drive,
    to: c.drive,
    comp: true,
    base: compId(ctx, part.cycle, part.step, part.drive),
    action: c.action,
    compensate: null,
    timeoutMs: part.timeoutMs,
    signal,
  });
}

interface Logged {
  cycle: number;
  step: number;
  drive: string;
  to: string;
  comp: boolean;
  base: string;
  action: CommandPart['action'];
  compensate: CommandPart['compensate'];
  timeoutMs: number;
  signal: AbortSignal;
}

/** Intent (durable) → publish → result (durable); or the logged result; or a resend. */
async function runLogged(ctx: RunnerContext, open: OpenCycle, o: Logged): Promise<Final> {
  const prior = open.latestIntent(o.step, o.drive, o.comp);
  let command: Command;
  let attempt: number;
  let resend = false;
  if (prior) {
    const res = open.results.get(prior.commandId);
    if (res) {
      return { status: res.status, source: 'drive', ...(res.error ? { error: res.error } : {}) };
    }
    command = prior.command;
    attempt = prior.attempt;
    resend = true;
    ctx.resent?.push(prior.commandId);
  } else {
    attempt = 0;
    command = await issue(ctx, o, o.base, attempt);
  }
  for (;;) {
    const f = await ctx.link.send(o.to, command, { timeoutMs: o.timeoutMs, signal: o.signal });
    void ctx.book.append({
      t: 'result',
      cycle: o.cycle,
      step: o.step,
      drive: o.drive,
      comp: o.comp,
      commandId: command.commandId,
      status: f.status,
      ...(f.error ? { error: f.error } : {}),
    });
    // A resent command the device never saw answers `expired` (its deadline passed while
    // the line was down): it never ran, so it may be issued again under a new id. A
    // TIMEOUT from the drive (a reply lost on the wire: outcome unknown) is issued again
    // only when running it twice does no harm (an absolute move, a jog velocity, a stop).
    const neverRan = resend && f.status === 'expired' && f.source === 'drive';
    const lostReply =
      f.source === 'drive' &&
      f.error?.code === 'TIMEOUT' &&
      idempotent(o.action) &&
      !o.signal.aborted;
    if ((neverRan || lostReply) && attempt + 1 < MAX_ATTEMPTS) {
      attempt++;
      // A lost reply means a link in trouble: give it a moment (100, 200, 400 ms).
      if (lostReply) {
        const paused = await dwell(ctx.clock, 100 * 2 ** (attempt - 1), o.signal);
        if (paused.status !== 'completed') return f;
      }
      command = await issue(ctx, o, `${o.base}-r${attempt}`, attempt);
      resend = false;
      continue;
    }
    return f;
  }
}

/** Running it twice ends where running it once does. */
function idempotent(a: CommandPart['action']): boolean {
  return a.type !== 'moveTo' || a.relative !== true;
}

/** A new command: its intent appended and on disk before it is returned to be sent. */
async function issue(
  ctx: RunnerContext,
  o: Logged,
  commandId: string,
  attempt: number,
): Promise<Command> {
  const command = {
    commandId,
    ...o.action,
    // Never started after the line has stopped waiting for it.
    deadline: Math.round(ctx.clock.wallNow() + o.timeoutMs),
  } as Command;
  await ctx.book.append({
    t: 'intent',
    cycle: o.cycle,
    step: o.step,
    drive: o.drive,
    to: o.to,
    attempt,
    comp: o.comp,
    timeoutMs: o.timeoutMs,
    commandId,
    command,
    compensate: o.compensate,
  });
  return command;
}

function dwell(clock: Clock, ms: number, signal: AbortSignal): Promise<Final> {
  return new Promise((resolve) => {
    const done = (f: Final) => {
      clock.clearTimer(timer);
      signal.removeEventListener('abort', onAbort);
      resolve(f);
    };
    const onAbort = () =>
      done({
        status: 'failed',
        source: 'line',
        error: { code: 'ABORTED', message: 'dwell cut short' },
      });
    const timer = clock.setTimer(ms, () => done({ status: 'completed', source: 'line' }));
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort);
  });
}

async function waitFor(ctx: RunnerContext, part: WaitPart, signal: AbortSignal): Promise<Final> {
  const u = part.until;
  const ok = (s: DriveState) =>
    (u.position === undefined || Math.abs(s.position - u.position) <= u.tolerance) &&
    (u.state === undefined || s.cia402 === u.state) &&
    (u.targetReached === undefined || s.targetReached === u.targetReached);
  const r = await ctx.link.waitForState(part.drive, ok, part.timeoutMs, signal);
  switch (r) {
    case 'ok':
      return { status: 'completed', source: 'line' };
    case 'aborted':
      return {
        status: 'failed',
        source: 'line',
        error: { code: 'ABORTED', message: 'wait cut short' },
      };
    case 'down':
      return {
        status: 'failed',
        source: 'line',
        error: { code: 'DRIVE_UNREACHABLE', message: `${part.drive} is down` },
      };
    case 'timeout':
      return {
        status: 'failed',
        source: 'line',
        error: {
          code: 'TIMEOUT',
          message: `${part.drive} did not reach ${JSON.stringify(u)} within ${part.timeoutMs} ms`,
        },
      };
  }
}
