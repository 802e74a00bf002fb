/** The line controller: what other folders (the CLI, tests, benchmarks) may use. */
export { type CycleStep, type LinePlan, type Part, planLine } from './cycle/parse-cycle.ts';
export { type CycleIssue, ERROR_CODES, LineError, type LineErrorCode } from './errors.ts';
export {
  type LineProcess,
  type LineProcessOptions,
  sagaLogPathOf,
  startLineProcess,
} from './line-process.ts';
export type { SagaRecord } from './saga/records.ts';
export { summarize } from './saga/saga-book.ts';
export { parseLog } from './saga/saga-log.ts';
