/**
 * V8 flags every servofleet service process starts with (`servofleet up`, the compose
 * image's entrypoint, the benchmarks that start services as a user would).
 *
 * `--max-semi-space-size=4` (MB): V8's young generation otherwise grows to 3 × 16 MB in
 * a process that allocates steadily, as a device service does at 20 Hz × 50 drives,
 * and keeps that memory. Measured with `BENCH_FLEET_SIZES=200 npm run bench -- fleet`
 * (four 50-drive device processes, gateway, journal), two runs each: RSS of those six
 * processes 781–797 MB by default (16 MB), 723–732 MB with 8 MB, 642–665 MB with 4 MB;
 * device CPU per state message 192 / 192–202 / 195–198 µs. GC runs more often with
 * smaller semi-spaces (a profile shows its share of a device process doubling, to
 * 14 %), but the total moves within the run-to-run spread: at most a few per cent.
 *
 * `--interrupt-budget=8448` (V8's default is 67584, bytes of bytecode run between
 * checks for optimisation): a function is handed to the optimising compiler after an
 * eighth of the bytecode it otherwise needs. The code a device service runs per poll
 * and per group read is spread over many functions of modest heat; with the lower
 * budget more of it runs optimised, early and later on. Measured with an A/B of the
 * fleet benchmark at 500 drives (in one run, alternate links' device processes with the
 * flag, the others without), three runs: device CPU 0.886–0.943× in the window 15 s
 * after set moving, 0.875–0.903× in the one from 40 s on. 4224: 0.98× and 0.93×, 2112:
 * 1.02× and 0.94× (more compiling early), 16896: 0.91× and 0.92×; no flag on either
 * side (A/A): 0.99× and 1.02×.
 */
export const SERVICE_NODE_FLAGS: readonly string[] = [
  '--max-semi-space-size=4',
  '--interrupt-budget=8448',
];
