/**
 * A line of the fleet file → its checked plan: stations, drives and the cycle's steps
 * in one normal form (every step is a list of parts run at once; a plain step has one
 * part). Checked once at start: each step against the TypeBox schema of its kind, then
 * against the fleet (the drive is in one of the line's stations, a position and a
 * velocity are inside the drive's soft limits, a Dynamixel drive is not asked to jog).
 * Every problem is reported with its JSON pointer; nothing is defaulted silently.
 */
import type { TObject } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import type { CommandOf } from '../../../contract/src/index.ts';
import type { Fleet, LineConfig } from '../../../runtime/src/index.ts';
import { type CycleIssue, LineError } from '../errors.ts';
import {
  CompensateSchemas,
  DEFAULT_STEP_TIMEOUT_MS,
  PART_KINDS,
  PartSchemas,
  STEP_KINDS,
  StepSchemas,
} from './cycle-schema.ts';

/** A drive command as the plan holds it: no commandId, deadline or replyTo yet. */
export type DriveAction =
  | Omit<CommandOf<'moveTo'>, 'commandId' | 'deadline' | 'replyTo'>
  | Omit<CommandOf<'jog'>, 'commandId' | 'deadline' | 'replyTo'>
  | Omit<CommandOf<'stop'>, 'commandId' | 'deadline' | 'replyTo'>;

export interface CommandPart {
  kind: 'command';
  drive: string;
  station: string;
  action: DriveAction;
  /** The safe move run if a later step fails (null: none). */
  compensate: { drive: string; action: DriveAction } | null;
  timeoutMs: number;
}

export interface WaitPart {
  kind: 'waitFor';
  drive: string;
  station: string;
  until: { position?: number; tolerance: number; state?: string; targetReached?: boolean };
  timeoutMs: number;
}

export interface DwellPart {
  kind: 'dwell';
  station: string | null;
  ms: number;
}

export type Part = CommandPart | WaitPart | DwellPart;

export interface CycleStep {
  index: number;
  id: string;
  parts: Part[];
}

export interface StationPlan {
  id: string;
  drives: string[];
  bypassable: boolean;
}

export interface LinePlan {
  lineId: string;
  stations: StationPlan[];
  /** Every drive of the line, in station order. */
  drives: string[];
  stationOf: ReadonlyMap<string, string>;
  steps: CycleStep[];
  autoRejoin: boolean;
}

interface DriveInfo {
  protocol: 'modbus-rtu' | 'dynamixel2';
  limits: { position?: [number, number]; velocity?: number; acceleration?: number };
}

/** Plan of line `lineId` of a checked fleet; throws LINE_NOT_FOUND or CYCLE_INVALID (with `issues`). */
export function planLine(fleet: Fleet, lineId: string): LinePlan {
  const li = fleet.lines.findIndex((l) => l.id === lineId);
  if (li < 0) {
    throw new LineError(
      'LINE_NOT_FOUND',
      `no line '${lineId}' in the fleet file (lines: ${fleet.lines.map((l) => l.id).join(', ') || 'none'})`,
    );
  }
  const drives = new Map<string, DriveInfo>();
  for (const link of fleet.links) {
    for (const d of link.drives) {
      drives.set(d.id, {
        protocol: link.protocol,
        limits: {
          ...(d.limits?.position ? { position: [d.limits.position[0], d.limits.position[1]] } : {}),
          ...(d.limits?.velocity !== undefined ? { velocity: d.limits.velocity } : {}),
          ...(d.limits?.acceleration !== undefined ? { acceleration: d.limits.acceleration } : {}),
        },
      });
    }
  }
  return parseLine(fleet.lines[li]!, drives, `/lines/${li}`);
}

export function parseLine(
  line: LineConfig,
  drives: ReadonlyMap<string, DriveInfo>,
  at: string,
): LinePlan {
  const issues: CycleIssue[] = [];
  const stationOf = new Map<string, string>();
  line.stations.forEach((s, si) => {
    s.drives.forEach((d, di) => {
      if (!drives.has(d)) {
        issues.push({
          path: `${at}/stations/${si}/drives/${di}`,
          message: `no drive '${d}' in the fleet`,
        });
      }
      if (stationOf.has(d)) {
        issues.push({
          path: `${at}/stations/${si}/drives/${di}`,
          message: `drive '${d}' is already in station '${stationOf.get(d)}'`,
        });
      }
      stationOf.set(d, s.id);
    });
  });
  const stations = line.stations.map((s) => ({
    id: s.id,
    drives: [...s.drives],
    bypassable: s.bypassable,
  }));
  const ctx: Ctx = { issues, drives, stationOf, stationIds: new Set(stations.map((s) => s.id)) };

  const raw = line.cycle;
  const steps: CycleStep[] = [];
  if (!raw || raw.length === 0) {
    issues.push({
      path: `${at}/cycle`,
      message: `line '${line.id}' has no cycle: give it at least one step`,
    });
  } else {
    const ids = new Map<string, number>();
    raw.forEach((value, i) => {
      const step = parseStep(value, i, `${at}/cycle/${i}`, ctx);
      if (!step) return;
      const seen = ids.get(step.id);
      if (seen !== undefined) {
        issues.push({
          path: `${at}/cycle/${i}/id`,
          message: `step id '${step.id}' is already used by step ${seen}`,
        });
      }
      ids.set(step.id, i);
      steps.push(step);
    });
  }
  if (issues.length > 0) {
    const text = issues.map((i) => `  ${i.path}: ${i.message}`).join('\n');
    throw new LineError('CYCLE_INVALID', `line '${line.id}': the cycle is not valid:\n${text}`, {
      issues,
    });
  }
  return {
    lineId: line.id,
    stations,
    drives: stations.flatMap((s) => s.drives),
    stationOf,
    steps,
    autoRejoin: line.autoRejoin,
  };
}

interface Ctx {
  issues: CycleIssue[];
  drives: ReadonlyMap<string, DriveInfo>;
  stationOf: ReadonlyMap<string, string>;
  stationIds: ReadonlySet<string>;
}

function kindOf(value: unknown, kinds: readonly string[]): string | undefined | 'many' {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const present = kinds.filter((k) => Object.hasOwn(value, k));
  if (present.length > 1) return 'many';
  return present[0];
}

/** Schema errors of `value`, one per path, as issues under `at`. */
function schemaIssues(schema: TObject, value: unknown, at: string, ctx: Ctx): boolean {
  const seen = new Set<string>();
  let ok = true;
  for (const e of Value.Errors(schema, value)) {
    const path = `${at}${e.path}`;
    if (seen.has(path)) continue;
    seen.add(path);
    ok = false;
    const why = e.message === 'Unexpected property' ? 'unknown field' : e.message.toLowerCase();
    ctx.issues.push({ path, message: why });
  }
  return ok;
}

function parseStep(value: unknown, index: number, at: string, ctx: Ctx): CycleStep | undefined {
  const kind = kindOf(value, STEP_KINDS);
  if (kind === undefined || kind === 'many') {
    ctx.issues.push({
      path: at,
      message: `a step is an object with exactly one of ${STEP_KINDS.join(', ')}`,
    });
    return undefined;
  }
  const schema = StepSchemas[kind as keyof typeof StepSchemas];
  if (!schemaIssues(schema, value, at, ctx)) return undefined;
  const v = value as Record<string, unknown>;
  const id = typeof v.id === 'string' ? v.id : `s${index}-${kind}`;
  if (kind === 'parallel') {
    const list = v.parallel as unknown[];
    const parts: Part[] = [];
    const used = new Map<string, number>();
    list.forEach((child, ci) => {
      const cat = `${at}/parallel/${ci}`;
      const ck = kindOf(child, PART_KINDS);
      if (ck === undefined || ck === 'many') {
        ctx.issues.push({
          path: cat,
          message: `a parallel part is an object with exactly one of ${PART_KINDS.join(', ')}`,
        });
        return;
      }
      const part = parsePart(child, ck, cat, ctx, v.timeoutMs as number | undefined);
      if (!part || part.kind === 'dwell') return;
      const prev = used.get(part.drive);
      if (prev !== undefined) {
        ctx.issues.push({
          path: `${cat}/${ck}/drive`,
          message: `drive '${part.drive}' already acts in part ${prev} of this parallel step`,
        });
      }
      used.set(part.drive, ci);
      parts.push(part);
    });
    return { index, id, parts };
  }
  const part = parsePart(value, kind, at, ctx, undefined);
  return part ? { index, id, parts: [part] } : undefined;
}

function parsePart(
  value: unknown,
  kind: string,
  at: string,
  ctx: Ctx,
  defaultTimeout: number | undefined,
): Part | undefined {
  const schema = (StepSchemas as Record<string, TObject>)[kind]!;
  if (!(kind in PartSchemas) && kind !== 'dwell') return undefined;
  if (!schemaIssues(schema, value, at, ctx)) return undefined;
  const v = value as Record<string, unknown>;
  const timeoutMs =
    (v.timeoutMs as number | undefined) ?? defaultTimeout ?? DEFAULT_STEP_TIMEOUT_MS;
  const station = v.station as string | undefined;
  if (station !== undefined && !ctx.stationIds.has(station)) {
    ctx.issues.push({ path: `${at}/station`, message: `no station '${station}' in the line` });
  }
  if (kind === 'dwell') return { kind: 'dwell', station: station ?? null, ms: v.dwell as number };

  const body = v[kind] as Record<string, unknown> & { drive: string };
  const drive = body.drive;
  const own = ctx.stationOf.get(drive);
  if (own === undefined) {
    ctx.issues.push({
      path: `${at}/${kind}/drive`,
      message: `drive '${drive}' is in no station of the line`,
    });
    return undefined;
  }
  if (station !== undefined && station !== own) {
    ctx.issues.push({
      path: `${at}/station`,
      message: `drive '${drive}' belongs to station '${own}', not '${station}'`,
    });
  }
  if (kind === 'waitFor') {
    const w = body as {
      position?: number;
      tolerance?: number;
      state?: string;
      targetReached?: boolean;
    };
    if (w.position === undefined && w.state === undefined && w.targetReached === undefined) {
      ctx.issues.push({
        path: `${at}/waitFor`,
        message: 'give at least one of position, state, targetReached',
      });
    }
    return {
      kind: 'waitFor',
      drive,
      station: own,
      until: {
        ...(w.position !== undefined ? { position: w.position } : {}),
        tolerance: w.tolerance ?? 20,
        ...(w.state !== undefined ? { state: w.state } : {}),
        ...(w.targetReached !== undefined ? { targetReached: w.targetReached } : {}),
      },
      timeoutMs,
    };
  }
  const action = toAction(kind, body);
  checkAction(drive, action, `${at}/${kind}`, ctx);
  const compensate = parseCompensate(v.compensate, drive, `${at}/compensate`, ctx);
  return { kind: 'command', drive, station: own, action, compensate, timeoutMs };
}

function toAction(kind: string, body: Record<string, unknown>): DriveAction {
  const { drive: _drive, ...params } = body;
  return { type: kind, ...params } as DriveAction;
}

function checkAction(drive: string, a: DriveAction, at: string, ctx: Ctx): void {
  const info = ctx.drives.get(drive);
  if (!info) return;
  const lim = info.limits;
  if (a.type === 'jog' && info.protocol === 'dynamixel2') {
    ctx.issues.push({
      path: at,
      message: `drive '${drive}' (Dynamixel) does not take jog: use moveTo`,
    });
  }
  // A relative move's target depends on where the axis stands: the device checks it.
  if (a.type === 'moveTo' && !a.relative && lim.position) {
    if (a.position < lim.position[0] || a.position > lim.position[1]) {
      ctx.issues.push({
        path: `${at}/position`,
        message: `position ${a.position} outside drive '${drive}' limits [${lim.position[0]}, ${lim.position[1]}]`,
      });
    }
  }
  if (
    (a.type === 'moveTo' || a.type === 'jog') &&
    a.velocity !== undefined &&
    lim.velocity !== undefined
  ) {
    if (Math.abs(a.velocity) > lim.velocity) {
      ctx.issues.push({
        path: `${at}/velocity`,
        message: `velocity ${a.velocity} above drive '${drive}' limit ${lim.velocity}`,
      });
    }
  }
  if (a.type !== 'stop' && a.acceleration !== undefined && lim.acceleration !== undefined) {
    if (a.acceleration > lim.acceleration) {
      ctx.issues.push({
        path: `${at}/acceleration`,
        message: `acceleration ${a.acceleration} above drive '${drive}' limit ${lim.acceleration}`,
      });
    }
  }
}

function parseCompensate(
  value: unknown,
  drive: string,
  at: string,
  ctx: Ctx,
): CommandPart['compensate'] {
  if (value === undefined) return { drive, action: { type: 'stop' } };
  if (value === 'none') return null;
  const kind = kindOf(value, Object.keys(CompensateSchemas));
  if (kind === undefined || kind === 'many') {
    ctx.issues.push({
      path: at,
      message: "compensate is 'none' or one of { moveTo }, { jog }, { stop }",
    });
    return null;
  }
  const schema = CompensateSchemas[kind as keyof typeof CompensateSchemas];
  if (!schemaIssues(schema, value, at, ctx)) return null;
  const body = (value as Record<string, Record<string, unknown>>)[kind]!;
  const target = typeof body.drive === 'string' ? body.drive : drive;
  if (!ctx.stationOf.has(target)) {
    ctx.issues.push({
      path: `${at}/${kind}/drive`,
      message: `drive '${target}' is in no station of the line`,
    });
    return null;
  }
  const action = toAction(kind, { ...body, drive: target });
  checkAction(target, action, `${at}/${kind}`, ctx);
  return { drive: target, action };
}
