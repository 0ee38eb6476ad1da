/**
 * What each function costs before it does anything: its handler bundled as `serverless package` bundles it
 * (esbuild with serverless.yml's custom.esbuild settings: bundled, not minified, source maps, node24), then
 * loaded by a plain Node process (no tsx) with the deployed NODE_OPTIONS (--enable-source-maps among them),
 * as a cold start loads it. Measured: the process's resident set once the module is loaded, and the CPU
 * time of loading it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { z } from 'zod';
import { deployedNodeOptions, functionSettings } from './cost.ts';
import { runNode } from './result.ts';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** What the child that loads a bundle prints (LOAD below). */
const loaded = z.object({
  /** Resident set of the process once the handler module is loaded, MB. */
  loadedRssMB: z.number(),
  /** CPU time (user + system) of loading the module, ms (the process's own start excluded). */
  loadCpuMs: z.number(),
});

export type Footprint = Readonly<
  z.infer<typeof loaded> & {
    /** The bundle's size, MB. */
    bundleMB: number;
  }
>;

// CommonJS, run by `node -e`: the bundle's path is the first argument.
const LOAD = `
const before = process.cpuUsage();
require(process.argv[1]);
const cpu = process.cpuUsage(before);
process.stdout.write(JSON.stringify({
  loadedRssMB: process.memoryUsage().rss / 1048576,
  loadCpuMs: (cpu.user + cpu.system) / 1000,
}));`;

const load = (bundle: string, nodeOptions: string) =>
  runNode({
    args: ['-e', LOAD, bundle],
    env: { PATH: process.env.PATH ?? '', NODE_OPTIONS: nodeOptions },
    what: `loading ${bundle}`,
    schema: loaded,
  });

/** Each function's footprint, by serverless.yml function name. */
export async function footprints(): Promise<Record<string, Footprint>> {
  const dir = mkdtempSync(join(tmpdir(), 'citrix-footprint-'));
  const nodeOptions = deployedNodeOptions();
  try {
    const out: Record<string, Footprint> = {};
    for (const [fn, settings] of Object.entries(functionSettings())) {
      const module = settings.handler.replace(/\.[^.]+$/, '');
      const outfile = join(dir, `${fn}.js`);
      const result = await build({
        entryPoints: [join(ROOT, `${module}.ts`)],
        outfile,
        bundle: true,
        minify: false,
        sourcemap: true,
        target: 'node24',
        platform: 'node',
        format: 'cjs',
        logLevel: 'error',
        metafile: true,
      });
      const bytes =
        result.metafile.outputs[Object.keys(result.metafile.outputs).find((k) => k.endsWith('.js')) ?? '']
          ?.bytes ?? 0;
      out[fn] = { ...(await load(outfile, nodeOptions)), bundleMB: bytes / 1048576 };
    }
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
