/**
 * V8 flags every servofleet service process starts with (`servofleet up`, the compose
 * image's entrypoint, the benchmarks that start services as a user would).
 *
 * `--max-semi-space-size=4` (MB): V8's young generation otherwise grows to 3 × 16 MB in
 * a process that allocates steadily, as a device service does at 20 Hz × 50 drives,
 * and keeps that memory. Measured with `BENCH_FLEET_SIZES=200 npm run bench -- fleet`
 * (four 50-drive device processes, gateway, journal): RSS 800 MB by default, 684 MB
 * with 4 MB semi-spaces (466 MB with 1 MB), CPU per state message within the run-to-run
 * spread (279-297 µs default, 286 µs with 4 MB).
 */
export const SERVICE_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=4'];
