#!/usr/bin/env node
// The `rotor` command. Rotor ships as TypeScript run through tsx's loader, so `npm ci` is the only
// install step: no build output can go stale against the source.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli.ts');
await main(process.argv);
