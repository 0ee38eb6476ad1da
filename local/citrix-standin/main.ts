/**
 * Runs the Citrix Monitor stand-in until SIGINT/SIGTERM:
 * `npm run standin -- [--port N] [--rows N] [--page-size N] [--token-ttl S]`.
 */
import { parseArgs } from 'node:util';
import { startStandin } from './index.ts';

function positive(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0)
    throw new Error(`--${name} expects a non-negative integer, got '${value}'`);
  return n;
}

const { values } = parseArgs({
  options: {
    port: { type: 'string' },
    rows: { type: 'string' },
    'page-size': { type: 'string' },
    'token-ttl': { type: 'string' },
  },
});

const standin = await startStandin({
  port: positive('port', values.port),
  rowsPerHour: positive('rows', values.rows),
  serverPageSize: positive('page-size', values['page-size']),
  tokenTtlSeconds: positive('token-ttl', values['token-ttl']),
});

console.log(`Citrix Monitor stand-in listening
  API_BASE      ${standin.url}
  customerId    ${standin.customerId}
  clientId      ${standin.clientId}
  clientSecret  ${standin.clientSecret}`);

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    standin.stop().then(() => process.exit(0));
  });
}
