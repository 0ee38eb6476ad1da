/**
 * `npm run asl`: writes statemachine/collector.asl.json from its source, statemachine/collector.asl.ts (the
 * npm script then formats it with biome). test/unit/error-contract.test.ts fails when the file drifts.
 */
import { writeFileSync } from 'node:fs';
import { ASL_JSON_PATH, definition } from './collector.asl.ts';

writeFileSync(ASL_JSON_PATH, `${JSON.stringify(definition, null, 2)}\n`);
