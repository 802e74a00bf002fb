/**
 * YAML text → a checked, deep-frozen DriveProfile. Pure: no file system (see
 * load-file.ts). Every failure is PROFILE_INVALID whose message names the source,
 * the JSON path of the bad field and the reason, e.g.
 * `sf-servo.yaml: /objects/temperature/adress: unknown key`.
 */
import { type TSchema, type TUnion, TypeGuard } from '@sinclair/typebox';
import { type ValueError, ValueErrorType } from '@sinclair/typebox/errors';
import { Value } from '@sinclair/typebox/value';
import { parseDocument } from 'yaml';
import { ProtocolError } from '../errors.ts';
import {
  type DriveProfile,
  DriveProfileSchema,
  OBJECT_NAME_PATTERN,
  ProfileObjectSchema,
} from './schema.ts';
import { sizeInBytes, sizeInRegisters } from './types.ts';

/** One problem with a profile: where (JSON pointer) and why. */
export interface ProfileIssue {
  path: string;
  message: string;
}

const MAX_ISSUES = 5;

/**
 * Parses and checks a drive profile. `sourceName` (a file name) prefixes error
 * messages. YAML 1.2 core schema: `0x0015` is the number 21, duplicate keys are an
 * error. The result and everything in it is frozen.
 */
export function parseProfile(yamlText: string, sourceName = 'profile'): DriveProfile {
  const doc = parseDocument(yamlText, { schema: 'core', uniqueKeys: true, prettyErrors: true });
  if (doc.errors.length > 0) {
    const first = doc.errors[0]!;
    throw new ProtocolError('PROFILE_INVALID', `${sourceName}: YAML: ${first.message.trim()}`, {
      cause: first,
    });
  }
  const raw: unknown = doc.toJS({ maxAliasCount: 100 });
  return checkProfile(raw, sourceName);
}

/** Checks an already-parsed value (JSON, a test fixture) as `parseProfile` does. */
export function checkProfile(input: unknown, sourceName = 'profile'): DriveProfile {
  const value = structuredCloneOrSame(input);
  const issues = applyDefaultsAndCheck(value);
  if (issues.length === 0) issues.push(...semanticIssues(value as DriveProfile));
  if (issues.length > 0) {
    const text = issues
      .slice(0, MAX_ISSUES)
      .map((i) => `${i.path || '/'}: ${i.message}`)
      .join('; ');
    const more = issues.length > MAX_ISSUES ? ` (and ${issues.length - MAX_ISSUES} more)` : '';
    throw new ProtocolError('PROFILE_INVALID', `${sourceName}: ${text}${more}`);
  }
  return deepFreeze(value as DriveProfile);
}

/** Never mutate the caller's value (STYLE.md §7). */
function structuredCloneOrSame(input: unknown): unknown {
  return input !== null && typeof input === 'object' ? structuredClone(input) : input;
}

function applyDefaultsAndCheck(value: unknown): ProfileIssue[] {
  if (isRecord(value)) {
    Value.Default(DriveProfileSchema, value);
    // TypeBox does not descend into Record values for defaults: do the objects here.
    if (isRecord(value.objects)) {
      for (const obj of Object.values(value.objects)) {
        if (isRecord(obj)) Value.Default(ProfileObjectSchema, obj);
      }
    }
    if (value.protocol === 'modbus-rtu' && value.wordOrder === undefined) {
      value.wordOrder = 'high-first';
    }
  }
  const unknown: ProfileIssue[] = [];
  const other: ProfileIssue[] = [];
  const seen = new Set<string>();
  for (const error of Value.Errors(DriveProfileSchema, value)) {
    if (seen.has(error.path)) continue; // one reason per field is enough
    seen.add(error.path);
    const issue = { path: error.path, message: reason(error) };
    // A misspelt key also makes the right one "required": name the typo first.
    (error.type === ValueErrorType.ObjectAdditionalProperties ? unknown : other).push(issue);
  }
  return [...unknown, ...other];
}

/** A reason a person can act on, instead of TypeBox's generic wording. */
function reason(error: ValueError): string {
  switch (error.type) {
    case ValueErrorType.ObjectAdditionalProperties:
      return error.path.startsWith('/objects/') && error.path.split('/').length === 3
        ? `object name must match ${OBJECT_NAME_PATTERN}`
        : 'unknown key';
    case ValueErrorType.ObjectRequiredProperty:
      return 'required';
    case ValueErrorType.Union: // every union of the schema is one of string literals
      return `must be one of ${literalOptions(error.schema).join(', ')}, got ${JSON.stringify(error.value)}`;
    default:
      return `${error.message}, got ${JSON.stringify(error.value)}`;
  }
}

function literalOptions(schema: TSchema): string[] {
  return (schema as TUnion).anyOf.filter(TypeGuard.IsLiteral).map((s) => String(s.const));
}

/** What the schema cannot say: protocol-specific fields and address overlaps. */
function semanticIssues(p: DriveProfile): ProfileIssue[] {
  const issues: ProfileIssue[] = [];
  const modbus = p.protocol === 'modbus-rtu';
  if (modbus) {
    if (p.modelNumber !== undefined) {
      issues.push({ path: '/modelNumber', message: 'applies to dynamixel2 profiles only' });
    }
    if (p.fastSyncRead !== undefined) {
      issues.push({ path: '/fastSyncRead', message: 'applies to dynamixel2 profiles only' });
    }
    if (p.indirect !== undefined) {
      issues.push({ path: '/indirect', message: 'applies to dynamixel2 profiles only' });
    }
  } else {
    if (p.wordOrder !== undefined) {
      issues.push({
        path: '/wordOrder',
        message: 'applies to modbus-rtu profiles only (Dynamixel is little-endian)',
      });
    }
    if (p.modelNumber === undefined) {
      issues.push({ path: '/modelNumber', message: 'required for dynamixel2 profiles' });
    }
  }

  const unit = modbus ? 'register' : 'byte';
  const spans: { name: string; path: string; start: number; end: number }[] = [];
  for (const [name, o] of Object.entries(p.objects)) {
    if (modbus && (o.type === 'u8' || o.type === 'i8')) {
      issues.push({
        path: `/objects/${name}/type`,
        message: `${o.type} is for dynamixel2; Modbus registers are 16-bit (u16, i16, u32, i32)`,
      });
      continue;
    }
    const size = modbus ? sizeInRegisters(o) : sizeInBytes(o);
    const end = o.address + size; // exclusive
    if (end - 1 > 0xffff) {
      issues.push({
        path: `/objects/${name}/address`,
        message: `${o.type} at ${hex(o.address)} runs past ${unit} address 0xFFFF`,
      });
    }
    spans.push({ name, path: `/objects/${name}`, start: o.address, end });
  }
  (modbus ? [] : (p.indirect ?? [])).forEach((b, i) => {
    // The banks' entries and data bytes are part of the control table too: they may
    // overlap neither an object nor each other.
    for (const [what, start, end] of [
      ['address', b.address, b.address + 2 * b.count],
      ['data', b.data, b.data + b.count],
    ] as const) {
      if (end - 1 > 0xffff) {
        issues.push({ path: `/indirect/${i}/${what}`, message: 'runs past byte address 0xFFFF' });
      }
      spans.push({ name: `~indirect ${i} ${what}`, path: `/indirect/${i}/${what}`, start, end });
    }
    if (b.check !== undefined && !(b.check in p.objects)) {
      issues.push({
        path: `/indirect/${i}/check`,
        message: `names no object of this profile: ${b.check}`,
      });
    }
  });
  (p.poll ?? []).forEach((name, i) => {
    if (!(name in p.objects)) {
      issues.push({ path: `/poll/${i}`, message: `names no object of this profile: ${name}` });
    }
  });
  (p.watch ?? []).forEach((name, i) => {
    if (!(name in p.objects)) {
      issues.push({ path: `/watch/${i}`, message: `names no object of this profile: ${name}` });
    } else if (p.poll && !p.poll.includes(name)) {
      issues.push({ path: `/watch/${i}`, message: `${name} is not polled: add it to poll` });
    }
  });
  spans.sort((a, b) => a.start - b.start || a.name.localeCompare(b.name));
  for (let i = 1; i < spans.length; i++) {
    const prev = spans[i - 1]!;
    const cur = spans[i]!;
    if (cur.start < prev.end) {
      issues.push({
        path: cur.path.startsWith('/objects/') ? `${cur.path}/address` : cur.path,
        message: `${unit}s ${range(cur)} overlap ${prev.path} (${range(prev)})`,
      });
    }
  }
  return issues;
}

const hex = (n: number) => `0x${n.toString(16).toUpperCase().padStart(4, '0')}`;
const range = (s: { start: number; end: number }) =>
  s.end - s.start === 1 ? hex(s.start) : `${hex(s.start)}–${hex(s.end - 1)}`;

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
