/**
 * One cycle as an orchestrated saga, and its compensation.
 *
 * - Each command part: intent appended (fsync) to the saga log, THEN published with
 *   the deterministic commandId `{line}-{cycle}-{step}-{drive}` (a compensation:
 *   `…-comp`); its final answer appended as a result. The device service dedupes by
 *   commandId, so sending a logged intent again after a crash cannot run it twice.
 * - Parts of a step run at once; a step ends when all its parts have.
 * - A part of a bypassable station that fails takes its station out (the cycle goes
 *   on without it); a failure anywhere else abandons the step's other parts and fails
 *   the cycle, which the controller then compensates: every part that may have run,
 *   newest step first, each with its own safe move.
 * - Replay (after a restart): steps before the last logged one are answered from the
 *   log; in the last one a part with a result is not sent again, a part with only an
 *   intent is sent again byte for byte; if that answers `expired` it never ran and is
 *   issued again under `…-r{n}`.
 */
import type { ContractError } from '../../../contract/src/index.ts';
import type { Clock, Logger } from '../../../runtime/src/index.ts';
import type { CycleStep, LinePlan, Part } from '../cycle/parse-cycle.ts';
import type { DrivePort } from '../drives/drive-link.ts';
import { compId, partIntentId, runCompensation, runPart } from './parts.ts';
import type { OpenCycle, SagaBook } from './saga-book.ts';

/** Why the controller cut a cycle short (the AbortController's reason). */
export interface CycleAbort {
  kind: 'estop' | 'fault';
  message: string;
}

export type CycleOutcome =
  | { outcome: 'completed'; ms: number }
  | { outcome: 'failed'; reason: string }
  | { outcome: 'aborted'; reason: string };

export type StepEventBody = {
  type: 'step';
  cycle: number;
  step: number;
  stepId: string;
  phase: 'started' | 'completed' | 'failed' | 'skipped';
  compensation: boolean;
  driveIds: string[];
  commandIds: string[];
  error?: ContractError;
};

export interface RunnerContext {
  plan: LinePlan;
  link: DrivePort;
  book: SagaBook;
  clock: Clock;
  log: Logger;
  isBypassed(station: string): boolean;
  /** Take a station out (logged, published); the running cycle skips its remaining parts. */
  bypass(station: string, reason: string): void;
  emit(body: StepEventBody): void;
  setStep(stepId: string | null): void;
  /** Commands sent again with their logged commandId (for the recovery report). */
  resent?: string[];
}

export async function runCycle(
  ctx: RunnerContext,
  cycle: number,
  signal: AbortSignal,
  replay = false,
): Promise<CycleOutcome> {
  const t0 = ctx.clock.now();
  const open = openCycle(ctx, cycle);
  const resumeAt = replay ? open.lastStep : -1;
  for (const step of ctx.plan.steps) {
    if (signal.aborted) return fromAbort(signal);
    const active = step.parts.filter((p) => p.station === null || !ctx.isBypassed(p.station));
    if (step.index < resumeAt) {
      const failed = replayStep(ctx, open, step, active);
      if (failed) return { outcome: 'failed', reason: failed };
      continue;
    }
    const drives = active.flatMap((p) => (p.kind === 'dwell' ? [] : [p.drive]));
    if (active.length === 0) {
      ctx.emit(stepEvent(cycle, step, 'skipped', [], []));
      continue;
    }
    const commandIds = active.flatMap((p) =>
      p.kind === 'command' ? [partIntentId(ctx, open, cycle, step.index, p)] : [],
    );
    ctx.setStep(step.id);
    ctx.emit(stepEvent(cycle, step, 'started', drives, commandIds));
    const stepAbort = new AbortController();
    const onCycleAbort = () => stepAbort.abort(signal.reason);
    signal.addEventListener('abort', onCycleAbort);
    let fatal: { error: ContractError; part: Part } | undefined;
    let bypassed: ContractError | undefined;
    await Promise.all(
      active.map(async (part) => {
        const f = await runPart(ctx, cycle, step.index, part, stepAbort.signal);
        if (f.status === 'completed') return;
        const error = f.error ?? { code: 'INTERNAL', message: `ended ${f.status}` };
        // Given up on because of another part or the cycle: not this part's own failure.
        if (f.source === 'line' && error.code === 'ABORTED') return;
        const station = part.station;
        const st = station === null ? undefined : ctx.plan.stations.find((s) => s.id === station);
        if (st?.bypassable) {
          bypassed = error;
          if (!ctx.isBypassed(st.id)) {
            ctx.bypass(st.id, `${describe(part)} ${f.status}: ${error.code} ${error.message}`);
          }
          return;
        }
        if (!fatal) {
          fatal = { error, part };
          stepAbort.abort({ kind: 'fault', message: 'abandoned: another part failed' });
        }
      }),
    );
    signal.removeEventListener('abort', onCycleAbort);
    ctx.setStep(null);
    const f = fatal as { error: ContractError; part: Part } | undefined;
    if (f) {
      ctx.emit({ ...stepEvent(cycle, step, 'failed', drives, commandIds), error: f.error });
      return {
        outcome: 'failed',
        reason: `step ${step.id}: ${describe(f.part)}: ${f.error.code} ${f.error.message}`,
      };
    }
    if (signal.aborted) {
      ctx.emit({
        ...stepEvent(cycle, step, 'failed', drives, commandIds),
        error: { code: 'ABORTED', message: (signal.reason as CycleAbort).message },
      });
      return fromAbort(signal);
    }
    const b = bypassed as ContractError | undefined;
    ctx.emit({
      ...stepEvent(cycle, step, 'completed', drives, commandIds),
      ...(b ? { error: b } : {}),
    });
  }
  return { outcome: 'completed', ms: ctx.clock.now() - t0 };
}

/** Compensate the open cycle: every part that may have run, newest step first. */
export async function compensate(
  ctx: RunnerContext,
  cycle: number,
  signal: AbortSignal,
): Promise<{ failed: { driveId: string; error: ContractError }[] }> {
  const open = openCycle(ctx, cycle);
  const failed: { driveId: string; error: ContractError }[] = [];
  for (const group of open.toCompensate()) {
    if (signal.aborted) break;
    const stepId = ctx.plan.steps[group.step]?.id ?? `s${group.step}`;
    const parts = group.parts.filter((p) => p.compensate !== null);
    const ids = parts.map((p) => compId(ctx, cycle, group.step, p.drive));
    const drives = parts.map((p) => p.compensate!.drive);
    ctx.setStep(`${stepId}/compensate`);
    ctx.emit({
      type: 'step',
      cycle,
      step: group.step,
      stepId,
      phase: 'started',
      compensation: true,
      driveIds: drives,
      commandIds: ids,
    });
    const results = await Promise.all(parts.map((p) => runCompensation(ctx, open, p, signal)));
    const bad = results.flatMap((f, i) =>
      f.status === 'completed'
        ? []
        : [{ driveId: drives[i]!, error: f.error ?? { code: 'INTERNAL', message: f.status } }],
    );
    failed.push(...bad);
    ctx.emit({
      type: 'step',
      cycle,
      step: group.step,
      stepId,
      phase: bad.length === 0 ? 'completed' : 'failed',
      compensation: true,
      driveIds: drives,
      commandIds: ids,
      ...(bad[0] ? { error: bad[0].error } : {}),
    });
  }
  ctx.setStep(null);
  return { failed };
}

function openCycle(ctx: RunnerContext, cycle: number): OpenCycle {
  const open = ctx.book.summary.open;
  if (!open || open.cycle !== cycle) throw new Error(`cycle ${cycle} is not open in the saga log`);
  return open;
}

function fromAbort(signal: AbortSignal): CycleOutcome {
  const r = signal.reason as CycleAbort | undefined;
  if (r?.kind === 'fault') return { outcome: 'failed', reason: r.message };
  return { outcome: 'aborted', reason: r?.message ?? 'aborted' };
}

/** A step the log already answers (before the step the line was in when it stopped). */
function replayStep(
  ctx: RunnerContext,
  open: OpenCycle,
  step: CycleStep,
  active: Part[],
): string | undefined {
  for (const part of active) {
    if (part.kind !== 'command') continue;
    const intent = open.latestIntent(step.index, part.drive, false);
    const res = intent && open.results.get(intent.commandId);
    if (!res || res.status === 'completed') continue;
    const st = ctx.plan.stations.find((s) => s.id === part.station);
    const why = `${describe(part)} ${res.status}: ${res.error?.code ?? ''} ${res.error?.message ?? ''}`;
    if (st?.bypassable) {
      if (!ctx.isBypassed(st.id)) ctx.bypass(st.id, why);
    } else if (!(res.error?.code === 'ABORTED')) {
      return `step ${step.id}: ${why}`;
    }
  }
  return undefined;
}

function describe(part: Part): string {
  if (part.kind === 'dwell') return `dwell ${part.ms} ms`;
  if (part.kind === 'waitFor') return `waitFor on ${part.drive}`;
  return `${part.action.type} on ${part.drive}`;
}

function stepEvent(
  cycle: number,
  step: CycleStep,
  phase: StepEventBody['phase'],
  driveIds: string[],
  commandIds: string[],
): StepEventBody {
  return {
    type: 'step',
    cycle,
    step: step.index,
    stepId: step.id,
    phase,
    compensation: false,
    driveIds,
    commandIds,
  };
}
