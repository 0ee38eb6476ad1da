/**
 * Loaded with `node --import` by bin.test.ts: every devDependency of package.json becomes unresolvable
 * from the project's own files, as after `npm ci --omit=dev`. A bin that imports one, even through
 * several of our modules, then fails to start, as it would for an operator.
 */
import { readFileSync } from 'node:fs';
import { registerHooks } from 'node:module';

const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  devDependencies: Record<string, string>;
};
const devDependencies = Object.keys(manifest.devDependencies);
const isDev = (specifier: string) =>
  devDependencies.some((name) => specifier === name || specifier.startsWith(`${name}/`));

registerHooks({
  resolve(specifier, context, nextResolve) {
    // Packages' own imports are theirs: npm installs what a production dependency needs.
    if (isDev(specifier) && !context.parentURL?.includes('/node_modules/')) {
      throw Object.assign(
        new Error(
          `Cannot find package '${specifier}' imported from ${context.parentURL}: a devDependency, absent after npm ci --omit=dev`,
        ),
        { code: 'ERR_MODULE_NOT_FOUND' },
      );
    }
    return nextResolve(specifier, context);
  },
});
