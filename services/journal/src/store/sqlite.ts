/**
 * better-sqlite3 12, loaded through `createRequire` (it is a CommonJS native addon),
 * typed with the small part of its API the journal uses. The project carries no
 * `@types/better-sqlite3`; this interface is the contract we rely on.
 */
import { createRequire } from 'node:module';

export interface RunResult {
  changes: number;
  lastInsertRowid: number | bigint;
}

export interface Statement<P extends unknown[] = unknown[], R = unknown> {
  run(...params: P): RunResult;
  get(...params: P): R | undefined;
  all(...params: P): R[];
}

export interface Transaction<A extends unknown[], T> {
  (...args: A): T;
  /** BEGIN IMMEDIATE: takes the write lock at once. */
  immediate(...args: A): T;
}

export interface Database {
  readonly open: boolean;
  readonly name: string;
  prepare<P extends unknown[] = unknown[], R = unknown>(sql: string): Statement<P, R>;
  exec(sql: string): Database;
  pragma(source: string, options?: { simple?: boolean }): unknown;
  transaction<A extends unknown[], T>(fn: (...args: A) => T): Transaction<A, T>;
  close(): Database;
}

export interface DatabaseOptions {
  readonly?: boolean;
  fileMustExist?: boolean;
  /** busy timeout, ms (better-sqlite3 default 5000). */
  timeout?: number;
}

type DatabaseConstructor = new (filename: string, options?: DatabaseOptions) => Database;

const require = createRequire(import.meta.url);
let ctor: DatabaseConstructor | undefined;

export function openDatabase(filename: string, options?: DatabaseOptions): Database {
  ctor ??= require('better-sqlite3') as DatabaseConstructor;
  return new ctor(filename, options);
}
