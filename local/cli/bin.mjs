#!/usr/bin/env node
// `citrix-monitor`: the operator's CLI (main.ts), run through tsx so that it needs no build step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('./main.ts');
await main();
