/**
 * MQTT topics of the contract (v1). `{root}` is configurable (default `servofleet`,
 * e.g. `acme/plant1/servofleet`); ids are single topic levels.
 *
 * | topic                              | QoS / retained | what |
 * |------------------------------------|----------------|------|
 * | {root}/drives/{id}/availability    | 1 / retained   | online, unreachable, offline (last will) |
 * | {root}/drives/{id}/meta            | 1 / retained   | birth certificate |
 * | {root}/drives/{id}/state           | 1 / retained   | snapshot |
 * | {root}/drives/{id}/telemetry       | 0              | same fields at poll rate |
 * | {root}/drives/{id}/events          | 1              | transitions, faults, breaker, command lifecycle |
 * | {root}/drives/{id}/commands        | 1              | commands in |
 * | {root}/lines/{id}/state, /events   | 1 / r, 1       | line controller |
 * | {root}/services/{id}/availability  | 1 / retained   | each process, with its last will |
 */

export const CONTRACT_VERSION = 1;

/** An id usable as one MQTT topic level: no `/`, `+`, `#`, not empty. */
export const ID_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$';
const ID_RE = new RegExp(ID_PATTERN);

export function isValidId(id: string): boolean {
  return ID_RE.test(id);
}

export type DriveTopicKind =
  | 'availability'
  | 'meta'
  | 'state'
  | 'telemetry'
  | 'events'
  | 'commands';
export const DRIVE_TOPIC_KINDS: readonly DriveTopicKind[] = [
  'availability',
  'meta',
  'state',
  'telemetry',
  'events',
  'commands',
];

export interface Topics {
  readonly root: string;
  drive(id: string, kind: DriveTopicKind): string;
  /** Subscription filter for one kind across every drive, e.g. `{root}/drives/+/state`. */
  allDrives(kind: DriveTopicKind): string;
  line(id: string, kind: 'state' | 'events'): string;
  allLines(kind: 'state' | 'events'): string;
  service(id: string): string;
  /** Parse a drive topic back into its id and kind; undefined when it is not one. */
  parseDrive(topic: string): { driveId: string; kind: DriveTopicKind } | undefined;
  parseLine(topic: string): { lineId: string; kind: 'state' | 'events' } | undefined;
}

export function topics(root = 'servofleet'): Topics {
  if (root.length === 0 || /[#+]/.test(root) || root.startsWith('/') || root.endsWith('/')) {
    throw new Error(`invalid topic root '${root}'`);
  }
  const drivePrefix = `${root}/drives/`;
  const linePrefix = `${root}/lines/`;
  const check = (id: string) => {
    if (!isValidId(id)) throw new Error(`invalid id '${id}' for an MQTT topic level`);
    return id;
  };
  return {
    root,
    drive: (id, kind) => `${drivePrefix}${check(id)}/${kind}`,
    allDrives: (kind) => `${drivePrefix}+/${kind}`,
    line: (id, kind) => `${linePrefix}${check(id)}/${kind}`,
    allLines: (kind) => `${linePrefix}+/${kind}`,
    service: (id) => `${root}/services/${check(id)}/availability`,
    parseDrive(topic) {
      if (!topic.startsWith(drivePrefix)) return undefined;
      const rest = topic.slice(drivePrefix.length).split('/');
      if (rest.length !== 2) return undefined;
      const [driveId, kind] = rest as [string, string];
      if (!isValidId(driveId) || !DRIVE_TOPIC_KINDS.includes(kind as DriveTopicKind))
        return undefined;
      return { driveId, kind: kind as DriveTopicKind };
    },
    parseLine(topic) {
      if (!topic.startsWith(linePrefix)) return undefined;
      const rest = topic.slice(linePrefix.length).split('/');
      if (
        rest.length !== 2 ||
        !isValidId(rest[0]!) ||
        (rest[1] !== 'state' && rest[1] !== 'events')
      ) {
        return undefined;
      }
      return { lineId: rest[0]!, kind: rest[1] };
    },
  };
}
