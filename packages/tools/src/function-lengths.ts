/**
 * Measures the code's shape for a review: the longest function bodies and the `as` casts.
 *
 *   npx tsx packages/tools/src/function-lengths.ts [--most N] [folder ...]   (default: functions cli)
 */
import { parseArgs } from 'node:util';
import { MOST_LINES, shapeOf, typeScriptFiles } from './shape.ts';

const { values, positionals } = parseArgs({
  options: { most: { type: 'string', default: '10' } },
  allowPositionals: true,
});
const most = Number(values.most);
const folders = positionals.length > 0 ? positionals : ['functions', 'cli'];
const { functions, casts } = shapeOf(folders.flatMap(typeScriptFiles), process.cwd());

console.log(`The ${most} longest functions:`);
for (const f of functions.slice(0, most))
  console.log(`${String(f.lines).padStart(5)}  ${f.file}:${f.line}  ${f.name}`);
console.log(`Functions over ${MOST_LINES} lines: ${functions.filter((f) => f.lines > MOST_LINES).length}`);
console.log(`\n\`as\` casts (not \`as const\`, not import/export renames): ${casts.length}`);
for (const c of casts) console.log(`  ${c.file}:${c.line}  ${c.text}`);
