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
 */
export const SERVICE_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=4'];
