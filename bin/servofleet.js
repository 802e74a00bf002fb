#!/usr/bin/env node
// Entry point of the `servofleet` command. The code is TypeScript run through tsx's
// ESM loader, so there is no build step between a clone and a running fleet.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../services/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
