/**
 * Scenario files: a timeline of faults and load changes for repeatable HIL tests.
 *
 * ```yaml
 * name: axis-3 overheats under load
 * steps:
 *   - at: 0                     # ms after the scenario starts (simulator clock)
 *     inject: { drive: axis-3, fault: load, torque: 800 }
 *   - at: 2000
 *     inject: { link: bus-a, fault: corrupt, rate: 0.01, durationMs: 1000 }
 *   - at: 5000
 *     clear: { drive: axis-3 }  # or `clear: all`
 * ```
 * Each `inject` is exactly a `POST /sim/faults` body.
 */
import { type Static, Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { parse as parseYaml } from 'yaml';
import type { TimerHandle } from './clock.ts';
import { SimError } from './errors.ts';
import { type Fault, parseFault } from './faults/fault-schema.ts';
import type { Simulator } from './simulator.ts';

const ClearSchema = Type.Union([
  Type.Literal('all'),
  Type.Object({ drive: Type.String() }, { additionalProperties: false }),
  Type.Object({ link: Type.String() }, { additionalProperties: false }),
]);

const StepSchema = Type.Object(
  {
    at: Type.Number({ minimum: 0, maximum: 86_400_000 }),
    inject: Type.Optional(Type.Unknown()),
    clear: Type.Optional(ClearSchema),
    note: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);

const ScenarioSchema = Type.Object(
  {
    name: Type.String({ minLength: 1 }),
    description: Type.Optional(Type.String()),
    steps: Type.Array(StepSchema, { minItems: 1, maxItems: 10_000 }),
  },
  { additionalProperties: false },
);

export interface ScenarioStep {
  at: number;
  inject?: Fault;
  clear?: Static<typeof ClearSchema>;
  note?: string;
}

export interface Scenario {
  name: string;
  description?: string;
  steps: ScenarioStep[];
}

/** Parse and check a scenario file's text. Throws SIM_SCENARIO_INVALID with the path of the bad field. */
export function parseScenario(text: string, source = 'scenario'): Scenario {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (cause) {
    throw new SimError('SIM_SCENARIO_INVALID', `${source}: not valid YAML`, { cause });
  }
  const first = Value.Errors(ScenarioSchema, raw).First();
  if (first) {
    throw new SimError(
      'SIM_SCENARIO_INVALID',
      `${source}: ${first.path || '/'}: ${first.message}`,
      {
        path: first.path || '/',
      },
    );
  }
  const s = raw as Static<typeof ScenarioSchema>;
  const steps = s.steps.map((step, i) => {
    if ((step.inject === undefined) === (step.clear === undefined)) {
      throw new SimError(
        'SIM_SCENARIO_INVALID',
        `${source}: /steps/${i}: a step has exactly one of inject, clear`,
        {
          path: `/steps/${i}`,
        },
      );
    }
    let inject: Fault | undefined;
    if (step.inject !== undefined) {
      try {
        inject = parseFault(step.inject, `/steps/${i}/inject`);
      } catch (err) {
        const e = err as SimError;
        throw new SimError('SIM_SCENARIO_INVALID', `${source}: ${e.message}`, {
          ...(e.path ? { path: e.path } : {}),
        });
      }
    }
    return { ...step, ...(inject ? { inject } : {}) } as ScenarioStep;
  });
  steps.sort((a, b) => a.at - b.at);
  return { name: s.name, ...(s.description ? { description: s.description } : {}), steps };
}

export interface ScenarioRun {
  /** Resolves when the last step has run. */
  done: Promise<void>;
  cancel(): void;
}

/**
 * Run a scenario on the simulator's clock. `onStep` hears each step as it runs (and
 * any error: an unknown drive is reported, the run goes on).
 */
export function runScenario(
  sim: Simulator,
  scenario: Scenario,
  onStep: (step: ScenarioStep, error?: Error) => void = () => {},
): ScenarioRun {
  const timers: TimerHandle[] = [];
  let left = scenario.steps.length;
  let finish!: () => void;
  const done = new Promise<void>((r) => {
    finish = r;
  });
  for (const step of scenario.steps) {
    timers.push(
      sim.clock.setTimer(step.at, () => {
        let error: Error | undefined;
        try {
          if (step.inject) sim.inject(step.inject);
          else if (step.clear === 'all') sim.clear();
          else if (step.clear) sim.clear(step.clear);
        } catch (err) {
          error = err as Error;
        }
        onStep(step, error);
        if (--left === 0) finish();
      }),
    );
  }
  return {
    done,
    cancel() {
      for (const t of timers) sim.clock.clearTimer(t);
      finish();
    },
  };
}
