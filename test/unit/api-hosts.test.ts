import { describe, expect, it } from 'vitest';
import { fleetFromEnv } from '../../functions/adapters/lambda.ts';
import { CITRIX_API_HOSTS } from '../../functions/domain/api-hosts.ts';
import { tenantConfig as configOf, loadSettings } from '../../functions/domain/config.ts';
import { BadConfiguration } from '../../functions/domain/errors.ts';
import type { Tenant } from '../../functions/domain/schemas.ts';
import { planTenants } from '../../functions/domain/tenants.ts';
import { MemoryStore } from '../fixtures/memory-store.ts';

type Env = Record<string, string | undefined>;

/** A tenant's configuration from an environment, read as the fleet reads it: settings once, the tenant laid over them. */
const tenantConfig = (env: Env, tenant: Tenant | null, inAws = false) =>
  configOf(loadSettings(env, inAws), tenant, (variable) => env[variable]);

const SECRET = 'Zq9-do-not-leak-7Xk';
const SECRET_PREFIX = 'citrix-monitor/prod/tenants/';
const BASE: Env = { S3_BUCKET: 'logs-bucket', ACME_SECRET: SECRET, TENANT_SECRET_PREFIX: SECRET_PREFIX };

/**
 * Tenant `id` of the list at `apiBase`. In AWS its secret is in Secrets Manager under
 * TENANT_SECRET_PREFIX, as tenantConfig requires there; locally it is in the environment.
 */
function tenantAt(apiBase: string | undefined, inAws: boolean, id = 'acme'): Tenant {
  const secret = inAws
    ? { clientSecretArn: `arn:aws:secretsmanager:eu-west-1:123456789012:secret:${SECRET_PREFIX}${id}-AbCdEf` }
    : { clientSecretEnv: 'ACME_SECRET' };
  return { id, customerId: `${id}1`, clientId: `client-${id}`, ...secret, ...(apiBase && { apiBase }) };
}

/** The API base tenantConfig gives tenant "acme" at `apiBase`. */
const configuredBase = (apiBase: string, inAws: boolean, env: Env = {}) =>
  tenantConfig({ ...BASE, ...env }, tenantAt(apiBase, inAws), inAws).apiBase;

/** The message of the BadConfiguration tenantConfig throws for tenant "acme" at `apiBase`. */
function refusal(apiBase: string, inAws: boolean, env: Env = {}): string {
  let thrown: unknown;
  try {
    configuredBase(apiBase, inAws, env);
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(BadConfiguration);
  const { message } = thrown as Error;
  expect(message).not.toContain(SECRET);
  return message;
}

describe("a listed tenant's API host", () => {
  it.each(CITRIX_API_HOSTS)('accepts the Citrix Cloud API host %s, locally and in AWS', (host) => {
    expect(configuredBase(`https://${host}`, false)).toBe(`https://${host}`);
    expect(configuredBase(`https://${host}/`, true)).toBe(`https://${host}`);
  });

  it('refuses a foreign host, naming the tenant, the host, the allowed hosts and what to do', () => {
    const message = refusal('https://collector.attacker.example/api', true);

    expect(message).toContain(
      'Tenant "acme" of the tenant list: apiBase names host "collector.attacker.example"',
    );
    expect(message).toContain(`(${CITRIX_API_HOSTS.join(', ')})`);
    expect(message).toContain('Use one of the Citrix Cloud API hosts');
    expect(message).toContain(
      'deploy parameter allowedApiHosts (the environment variable ALLOWED_API_HOSTS)',
    );
  });

  it('compares the host name only: any case, any port', () => {
    expect(configuredBase('https://API-EU.Cloud.COM:8443', false)).toBe('https://api-eu.cloud.com:8443');
    expect(
      configuredBase('https://citrix-proxy.EXAMPLE.internal', true, {
        ALLOWED_API_HOSTS: 'Citrix-Proxy.Example.Internal',
      }),
    ).toBe('https://citrix-proxy.example.internal');
  });

  it('matches whole host names, never a suffix or a prefix: a look-alike host of an attacker is refused', () => {
    for (const host of [
      'evilapi.cloud.com',
      'api.cloud.com.attacker.example',
      'cloud.com',
      'xapi-eu.cloud.com',
      'api-eu.cloud.co',
    ])
      expect(refusal(`https://${host}`, true), host).toContain(`host "${host}"`);
    expect(
      refusal('https://evil-proxy.example.internal', true, { ALLOWED_API_HOSTS: 'proxy.example.internal' }),
    ).toContain('host "evil-proxy.example.internal"');
  });

  it('refuses an apiBase with a path, naming the tenant and its own field, not API_BASE', () => {
    const message = refusal('https://api.cloud.com/monitorodata', true);

    expect(message).toContain(
      'Tenant "acme" of the tenant list: apiBase "https://api.cloud.com/monitorodata" has a path (/monitorodata): apiBase must be the host only, e.g. https://api.cloud.com',
    );
    expect(message).not.toMatch(/API_BASE|CITRIX_/);
  });

  it('accepts the hosts of ALLOWED_API_HOSTS besides the Citrix ones', () => {
    const env = { ALLOWED_API_HOSTS: ' citrix-proxy.example.internal , api.other.example,' };

    for (const host of ['citrix-proxy.example.internal', 'api.other.example', 'api.cloud.com']) {
      expect(configuredBase(`https://${host}`, true, env)).toBe(`https://${host}`);
    }
    expect(refusal('https://api.third.example', true, env)).toContain(
      'api.cloud.us, citrix-proxy.example.internal, api.other.example)',
    );
  });

  it('accepts loopback hosts locally and refuses them in AWS unless ALLOWED_API_HOSTS lists them', () => {
    for (const host of ['127.0.0.1:54321', 'localhost', '[::1]:8080']) {
      expect(configuredBase(`http://${host}`, false)).toBe(`http://${host}`);
    }
    for (const host of ['127.0.0.1', 'localhost', '[::1]']) {
      const message = refusal(`https://${host}`, true);
      expect(message).toContain(`apiBase names host "${host}"`);
      expect(message).toContain('api.cloud.us)');
    }
    const env = { ALLOWED_API_HOSTS: '127.0.0.1,[::1]' };
    expect(configuredBase('https://127.0.0.1:8443', true, env)).toBe('https://127.0.0.1:8443');
    expect(configuredBase('https://[::1]', true, env)).toBe('https://[::1]');
  });

  it.each([
    'https://citrix-proxy.example.internal',
    'citrix-proxy.example.internal:8443',
    'citrix-proxy.example.internal/citrix',
    '*.example.internal',
    'proxy..example',
    'user@proxy.example',
  ])('refuses the ALLOWED_API_HOSTS entry %s, naming the variable and the entry', (entry) => {
    expect(
      refusal('https://api.cloud.com', false, { ALLOWED_API_HOSTS: `api.other.example,${entry}` }),
    ).toContain(`ALLOWED_API_HOSTS entry ${JSON.stringify(entry)} is not a host name`);
  });

  it('leaves API_BASE, and a tenant without apiBase, unrestricted', () => {
    const env = { ...BASE, API_BASE: 'https://citrix.deployer.example' };

    expect(tenantConfig(env, tenantAt(undefined, true), true).apiBase).toBe(
      'https://citrix.deployer.example',
    );
    const single = { ...env, CITRIX_CUSTOMER_ID: 'c', CITRIX_CLIENT_ID: 'i', CITRIX_CLIENT_SECRET: 's' };
    expect(tenantConfig(single, null, false).apiBase).toBe('https://citrix.deployer.example');
  });

  it('fails the whole tenant list before any tenant starts when one entry names a foreign host', async () => {
    // The set-up of test/unit/tenants.test.ts: a local fleet whose work bucket holds the list.
    const fleet = fleetFromEnv({ env: BASE, telemetry: { log: () => {}, metric: () => {} }, inAws: false });
    const work = new MemoryStore();
    const list = [
      tenantAt('https://api-eu.cloud.com', false),
      tenantAt('https://citrix.attacker.example', false, 'gamma'),
    ];
    await work.put('collector-work/citrix_monitor/tenants.json', JSON.stringify({ tenants: list }));

    const planning = planTenants({ ...fleet, work }, { input: {}, runId: 'run-1' });
    await expect(planning).rejects.toThrow(BadConfiguration);
    await expect(planning).rejects.toThrow(
      'Tenant "gamma" of the tenant list: apiBase names host "citrix.attacker.example"',
    );
  });
});
