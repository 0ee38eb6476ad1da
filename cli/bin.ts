#!/usr/bin/env node
/**
 * `citrix-monitor`, the package's bin: the operator's CLI (main.ts). Node runs it as it is, by stripping
 * the types (Node >= 22.18; the `node` 24 dependency, which npx and npm scripts put first on PATH), so it
 * needs no build step and no dev dependency: everything it imports is erasable TypeScript
 * (tsconfig `erasableSyntaxOnly`) and production dependencies only (test/cli/bin.test.ts checks both).
 */
import { main } from './main.ts';

await main();
