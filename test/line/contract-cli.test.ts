/**
 * The line's contract (command parsing, the commands topic, the state and event
 * schemas) and `servofleet line` refusing a bad fleet file with one clear line.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Value } from '@sinclair/typebox/value';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml, stringify } from 'yaml';
import { main } from '../../services/cli/main.ts';
import {
  LineEventSchemas,
  LineStateSchema,
  lineCommandsTopic,
  parseLineCommand,
  topics,
} from '../../services/contract/src/index.ts';

const ROOT = resolve(import.meta.dirname, '../..');

describe('line contract', () => {
  it('parses line commands, naming the bad field and keeping what can be answered', () => {
    expect(parseLineCommand('{"commandId":"c1","type":"rejoin","station":"label"}')).toEqual({
      ok: true,
      command: { commandId: 'c1', type: 'rejoin', station: 'label' },
    });
    expect(parseLineCommand('{"commandId":"c2","type":"launch","replyTo":"r/1"}')).toEqual({
      ok: false,
      commandId: 'c2',
      replyTo: 'r/1',
      error: {
        code: 'BAD_REQUEST',
        path: '/type',
        message: 'type must be one of start, stop, estop, reset, rejoin',
      },
    });
    expect(parseLineCommand('{"commandId":"c3","type":"start","speed":2}')).toMatchObject({
      ok: false,
      commandId: 'c3',
      error: { path: '/speed', message: '/speed: unknown field' },
    });
    expect(parseLineCommand('nope')).toMatchObject({
      ok: false,
      error: { message: 'payload is not JSON' },
    });
    expect(lineCommandsTopic(topics('acme/plant1/servofleet'), 'line-1')).toBe(
      'acme/plant1/servofleet/lines/line-1/commands',
    );
  });

  it('line state and events validate against their schemas', () => {
    const state = {
      lineId: 'line-1',
      ts: 1,
      seq: 0,
      state: 'RUNNING',
      reason: null,
      since: 1,
      cycle: 3,
      step: 'index',
      cyclesCompleted: 2,
      lastCycleMs: 2100,
      bypassedStations: ['label'],
      compensations: 0,
      stations: [
        {
          id: 'label',
          bypassable: true,
          status: 'bypassed',
          drives: ['axis-4'],
          reason: 'axis-4 unreachable',
        },
      ],
    };
    expect(Value.Check(LineStateSchema, state)).toBe(true);
    expect(Value.Check(LineStateSchema, { ...state, state: 'DANCING' })).toBe(false);
    expect(
      Value.Check(LineEventSchemas.recovery, {
        eventId: 'e1',
        lineId: 'line-1',
        ts: 1,
        type: 'recovery',
        cycle: 4,
        action: 'resumed',
        detail: 'x',
        resent: ['line-1-4-1-axis-2'],
      }),
    ).toBe(true);
  });
});

describe('servofleet line', () => {
  const io = () => {
    const out: string[] = [];
    const err: string[] = [];
    return {
      out,
      err,
      io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l), env: {}, cwd: ROOT },
    };
  };

  it('names a line that does not exist', async () => {
    const t = io();
    expect(await main(['line', '--line', 'line-9'], t.io)).toBe(1);
    expect(t.err.join('\n')).toBe(
      "servofleet line: LINE_NOT_FOUND: no line 'line-9' in the fleet file (lines: line-1)",
    );
  });

  it('refuses a bad cycle with the path of each problem, before connecting to anything', async () => {
    const raw = parseYaml(readFileSync(resolve(ROOT, 'config/demo-fleet.yaml'), 'utf8')) as {
      profilesDir: string;
      lines: { cycle: Record<string, unknown>[] }[];
    };
    raw.profilesDir = resolve(ROOT, 'config/profiles');
    raw.lines[0]!.cycle[0] = { moveTo: { drive: 'axis-1', postion: 5 } };
    const file = join(mkdtempSync(join(tmpdir(), 'sf-line-cli-')), 'fleet.yaml');
    writeFileSync(file, stringify(raw));
    const t = io();
    expect(await main(['line', '--line', 'line-1', '--config', file], t.io)).toBe(1);
    const text = t.err.join('\n');
    expect(text).toContain('servofleet line: CYCLE_INVALID:');
    expect(text).toContain('/lines/0/cycle/0/moveTo/postion: unknown field');
    expect(text).toContain('/lines/0/cycle/0/moveTo/position: expected required property');
  });

  it('prints its usage', async () => {
    const t = io();
    expect(await main(['line', '--help'], t.io)).toBe(0);
    expect(t.out[0]).toContain('usage: servofleet line --line ID');
  });
});
