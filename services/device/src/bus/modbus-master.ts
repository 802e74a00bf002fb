/**
 * The Modbus RTU master of one line: encodes a request, arms the RtuMasterFramer for
 * its response, and settles on the response, an exception (DRIVE_REJECTED) or the
 * timeout the line's timing allows (TIMEOUT). One transaction at a time: the bus
 * scheduler guarantees it, this class asserts it.
 */
import { modbus } from '../../../../firmware-protocol/src/index.ts';
import { BusError, rejected } from './errors.ts';
import { modbusTimeoutMs, quietAfterTimeoutMs } from './timing.ts';
import { type MasterOptions, Outstanding } from './transaction.ts';

type Normal = Exclude<modbus.ModbusResponse, modbus.ExceptionResponse>;

interface Pending {
  out: Outstanding<Normal>;
  label: string;
  unit: number;
  crcBefore: number;
}

export class ModbusMaster {
  readonly #o: MasterOptions;
  readonly #framer: modbus.RtuMasterFramer;
  #pending: Pending | undefined;

  /**
   * `wireTimestamps`: chunk arrival times tell when the bytes crossed the wire, so the
   * 3.5-character silence rule may end truncated frames (Modbus over serial line V1.02
   * §2.5.1.1). False for USB adapters and TCP bridges, which batch bytes.
   */
  constructor(opts: MasterOptions & { wireTimestamps: boolean }) {
    this.#o = opts;
    this.#framer = new modbus.RtuMasterFramer({
      baud: opts.line.baud,
      bitsPerChar: opts.line.bitsPerChar,
      ...(opts.wireTimestamps ? {} : { gapMs: null }),
    });
  }

  /** Bytes from the link. */
  feed(chunk: Uint8Array): void {
    this.#o.guard.noteData();
    const frames = this.#framer.feed(chunk, this.#o.clock.now());
    const p = this.#pending;
    const frame = frames[0];
    if (p === undefined || frame === undefined) return;
    this.#pending = undefined;
    // Modbus over serial line V1.02 §2.5.1.1: frames are separated by at least 3.5
    // character times of silence, so the next request waits that long after this one.
    const gap = modbus.silenceMs(this.#o.line.baud, this.#o.line.bitsPerChar);
    this.#o.guard.requireQuiet(gap, gap);
    const res = frame.pdu;
    const err = modbus.responseToError(res);
    this.#record(p, err ? 'rejected' : 'ok');
    if (err) p.out.reject(rejected(p.label, err));
    else p.out.resolve(res as Normal);
  }

  /**
   * One transaction with `unit`. Resolves with the normal response; rejects TIMEOUT,
   * DRIVE_REJECTED (exception response, Modbus Application Protocol V1.1b3 §7) or
   * LINK_DOWN. `label` names the drive in error messages.
   */
  request(
    label: string,
    unit: number,
    req: modbus.ModbusRequest,
    turnaroundMs: number,
  ): Promise<Normal> {
    if (this.#pending) throw new Error('ModbusMaster: a transaction is already outstanding');
    const bytes = modbus.encodeRequest(unit, req);
    const timeoutMs = modbusTimeoutMs(
      this.#o.line,
      bytes.length,
      modbus.expectedResponseLength(req),
      turnaroundMs,
    );
    this.#framer.expect(unit, req);
    return new Promise<Normal>((resolve, reject) => {
      const out = new Outstanding<Normal>(this.#o.clock, resolve, reject);
      const p: Pending = { out, label, unit, crcBefore: this.#crcCount() };
      this.#pending = p;
      out.arm(timeoutMs, () => this.#timeout(p, timeoutMs));
      try {
        this.#o.send(bytes);
      } catch (err) {
        this.#pending = undefined;
        this.#framer.cancel();
        out.reject(err instanceof BusError ? err : new BusError('LINK_DOWN', String(err)));
      }
    });
  }

  /** The link went down: the transaction in flight ends with `err`. */
  abort(err: BusError): void {
    const p = this.#pending;
    if (!p) return;
    this.#pending = undefined;
    this.#framer.cancel();
    this.#record(p, 'link-down');
    p.out.reject(err);
  }

  #timeout(p: Pending, timeoutMs: number): void {
    if (this.#pending !== p) return;
    this.#pending = undefined;
    this.#framer.cancel();
    this.#o.guard.requireQuiet(quietAfterTimeoutMs(this.#o.line), timeoutMs);
    const crc = this.#record(p, 'timeout');
    const why = crc > 0 ? ` (${crc} reply frame(s) failed the CRC)` : '';
    p.out.reject(
      new BusError(
        'TIMEOUT',
        `${p.label}: no valid answer from unit ${p.unit} within ${timeoutMs.toFixed(1)} ms${why}`,
      ),
    );
  }

  #crcCount(): number {
    return this.#framer.stats.discarded.MODBUS_CRC ?? 0;
  }

  #record(p: Pending, outcome: 'ok' | 'timeout' | 'rejected' | 'link-down'): number {
    const crcErrors = this.#crcCount() - p.crcBefore;
    this.#o.observe({
      unit: p.unit,
      outcome,
      ms: this.#o.clock.now() - p.out.startedAt,
      crcErrors,
    });
    return crcErrors;
  }
}
