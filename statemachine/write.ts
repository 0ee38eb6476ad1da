/**
 * `npm run asl`: writes statemachine/collector.asl.json from its source, statemachine/collector.asl.ts (the
 * npm script then formats it with biome), and docs/design.md's error and retry tables from the contract
 * (statemachine/error-tables.ts). test/unit/error-contract.test.ts fails when the file drifts, and
 * test/readme/error-tables.test.ts when the tables do.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { ASL_JSON_PATH, definition } from './collector.asl.ts';
import { ERROR_TABLES_PATH, withTables } from './error-tables.ts';

writeFileSync(ASL_JSON_PATH, `${JSON.stringify(definition, null, 2)}\n`);
writeFileSync(ERROR_TABLES_PATH, withTables(readFileSync(ERROR_TABLES_PATH, 'utf8')));
