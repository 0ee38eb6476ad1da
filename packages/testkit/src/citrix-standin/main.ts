/**
 * Runs the Citrix Monitor stand-in until SIGINT/SIGTERM:
 * `npm run standin -- [--port N] [--rows N] [--page-size N] [--token-ttl S] [--latency-ms MS]
 *  [--skip-cost-ms MS] [--query-timeout-ms MS] [--next-link absolute|relative|alternate]
 *  [--churn Sessions,Machines[:ROWS_PER_PAGE]] [--seed N] [--tenants N]`.
 * `--tenants N` serves N tenants, tenant1cust … tenantNcust, each with its own credentials and data.
 */
import { parseArgs } from 'node:util';
import { type ChurnOptions, type StandinOptions, startStandin, type TenantOptions } from './index.ts';

function number(name: string, value: string | undefined, integer = true): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0 || (integer && !Number.isInteger(n))) {
    throw new Error(`--${name} expects a non-negative ${integer ? 'integer' : 'number'}, got '${value}'`);
  }
  return n;
}

/** `Sessions,Machines:2` = change 2 delivered rows per page of Sessions and of Machines (default 1). */
function churn(value: string | undefined, seed: number | undefined): ChurnOptions | undefined {
  if (value === undefined) return undefined;
  const m = /^([A-Za-z]+(?:,[A-Za-z]+)*)(?::(\d+))?$/.exec(value.trim());
  if (!m?.[1])
    throw new Error(
      `--churn expects Entity[,Entity…][:rowsPerPage], e.g. Sessions,Machines:1; got '${value}'`,
    );
  return { entities: m[1].split(','), rowsPerPage: Number(m[2] ?? 1), seed };
}

/** Tenants tenant1cust … tenantNcust, or none (one tenant with the default credentials) without the flag. */
function tenants(count: number | undefined): TenantOptions[] | undefined {
  if (!count) return undefined;
  return Array.from({ length: count }, (_, k) => ({
    customerId: `tenant${k + 1}cust`,
    clientId: `tenant${k + 1}-client`,
    clientSecret: `tenant${k + 1}-secret`,
  }));
}

function linkStyle(value: string | undefined): StandinOptions['nextLinkStyle'] {
  if (value === undefined || value === 'absolute' || value === 'relative' || value === 'alternate')
    return value;
  throw new Error(`--next-link expects absolute, relative or alternate, got '${value}'`);
}

const USAGE = `Usage: npm run standin -- [--port N] [--rows N] [--page-size N] [--token-ttl S] [--latency-ms MS]
    [--skip-cost-ms MS] [--query-timeout-ms MS] [--next-link absolute|relative|alternate]
    [--churn Entity[,Entity…][:ROWS_PER_PAGE]] [--seed N] [--tenants N]
  Serves a Citrix Monitor stand-in (token endpoint and OData entities) on 127.0.0.1 until Ctrl-C, and
  prints the API_BASE, customer, client and secret to give npm run collect (docs/operating.md, "Running
  against a real or compatible API from your machine").
  --port N                 listen on port N (default: any free port)
  --rows N                 rows per hour of each entity
  --page-size N            rows per page the server returns at most
  --token-ttl S            seconds a token stays valid
  --latency-ms MS          delay of every answer
  --skip-cost-ms MS        time per row skipped by $skip (a slow deep page)
  --query-timeout-ms MS    answer 503 to a query that would take longer
  --next-link STYLE        absolute, relative or alternate nextLinks
  --churn E[,E…][:N]       change N delivered rows per page of those entities (live data)
  --seed N                 seed of the generated data
  --tenants N              serve N tenants tenant1cust … tenantNcust, each with its own credentials
  -h, --help               this help`;

function options() {
  try {
    return parseArgs({
      options: {
        port: { type: 'string' },
        rows: { type: 'string' },
        'page-size': { type: 'string' },
        'token-ttl': { type: 'string' },
        'latency-ms': { type: 'string' },
        'skip-cost-ms': { type: 'string' },
        'query-timeout-ms': { type: 'string' },
        'next-link': { type: 'string' },
        churn: { type: 'string' },
        seed: { type: 'string' },
        tenants: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }).values;
  } catch (err) {
    console.error(`UsageError: ${err instanceof Error ? err.message : err} See npm run standin -- --help.`);
    process.exit(2);
  }
}

const values = options();
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}

/** Bad options (and a port in use) are said in one line, exit 2: no stack trace. */
async function start() {
  try {
    const seed = number('seed', values.seed);
    return await startStandin({
      port: number('port', values.port),
      rowsPerHour: number('rows', values.rows),
      serverPageSize: number('page-size', values['page-size']),
      tokenTtlSeconds: number('token-ttl', values['token-ttl']),
      latencyMs: number('latency-ms', values['latency-ms'], false),
      msPerSkippedRow: number('skip-cost-ms', values['skip-cost-ms'], false),
      queryTimeoutMs: number('query-timeout-ms', values['query-timeout-ms'], false),
      nextLinkStyle: linkStyle(values['next-link']),
      churn: churn(values.churn, seed),
      seed,
      tenants: tenants(number('tenants', values.tenants)),
    });
  } catch (err) {
    const name = err instanceof Error && err.name !== 'Error' ? err.name : 'UsageError';
    console.error(`${name}: ${err instanceof Error ? err.message : err}. See npm run standin -- --help.`);
    process.exit(2);
  }
}

const standin = await start();

console.log(`Citrix Monitor stand-in listening
  API_BASE      ${standin.url}`);
for (const t of standin.tenants) {
  console.log(`  customerId    ${t.customerId}
  clientId      ${t.clientId}
  clientSecret  ${t.clientSecret}`);
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    standin.stop().then(() => process.exit(0));
  });
}
