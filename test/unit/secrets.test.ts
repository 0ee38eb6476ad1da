// Secrets Manager has no local stand-in for unit tests (test/artifact serves one secret to the packaged
// Lambdas only), so its client (GetSecretValue) is mocked here with aws-sdk-client-mock. The tests assert
// only on the secret the resolver hands back or on its error.
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { startStandin } from '@citrix-monitor/testkit/citrix-standin';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, onTestFinished, vi } from 'vitest';
import { CitrixClient } from '../../functions/adapters/citrix-client.ts';
import { clientSecretResolver, PLACEHOLDER_SECRET } from '../../functions/adapters/secrets.ts';
import { BadConfiguration, StorageTransient } from '../../functions/domain/errors.ts';

const ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:citrix-monitor-AbCdEf';
const inSecretsManager = { kind: 'secretsManager', secretId: ARN } as const;
const fromEnv = { kind: 'env', variable: 'CITRIX_CLIENT_SECRET' } as const;
const secretsManager = mockClient(SecretsManagerClient);
const client = () => new SecretsManagerClient({ region: 'eu-west-1' });

function storeSecret(secret: { SecretString?: string; SecretBinary?: Uint8Array }) {
  secretsManager.on(GetSecretValueCommand, { SecretId: ARN }).resolves(secret);
}

async function refusal(resolve: () => Promise<unknown>): Promise<Error> {
  const outcome = await resolve().then(
    (value) =>
      new Error(`resolved (to ${typeof value === 'string' ? `${value.length} characters` : 'a page'})`),
    (error: unknown) => error,
  );
  expect(outcome).toBeInstanceOf(BadConfiguration);
  return outcome as Error;
}

beforeEach(() => secretsManager.reset());
afterEach(() => vi.useRealTimers());

describe('clientSecretResolver from Secrets Manager', () => {
  it('returns a secret stored as plain text', async () => {
    storeSecret({ SecretString: 'plain-s3cr3t' });

    expect(await clientSecretResolver(inSecretsManager, { client })()).toBe('plain-s3cr3t');
  });

  it('trims the line break a console paste leaves behind', async () => {
    storeSecret({ SecretString: ' plain-s3cr3t\n' });

    expect(await clientSecretResolver(inSecretsManager, { client })()).toBe('plain-s3cr3t');
  });

  it('reports a secret the role may not read as BadConfiguration naming the secret id', async () => {
    secretsManager
      .on(GetSecretValueCommand)
      .rejects(Object.assign(new Error('not authorized'), { name: 'AccessDeniedException' }));

    const error = await refusal(clientSecretResolver(inSecretsManager, { client }));

    expect(error.message).toContain(
      `Secrets Manager refused the client secret ${ARN} (AccessDeniedException)`,
    );
  });

  it('reports Secrets Manager failing past the SDK retries as StorageTransient, retried by the state machine', async () => {
    secretsManager
      .on(GetSecretValueCommand)
      .rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));

    const error = await clientSecretResolver(inSecretsManager, { client })().catch((e: unknown) => e);

    expect(error).toBeInstanceOf(StorageTransient);
    expect(String(error)).toContain(`Secrets Manager could not give the client secret ${ARN}`);
  });

  it('lets a bug through unchanged: it is not retried', async () => {
    secretsManager.on(GetSecretValueCommand).rejects(new TypeError('x is not a function'));

    const error = await clientSecretResolver(inSecretsManager, { client })().catch((e: unknown) => e);

    expect(error).toBeInstanceOf(TypeError);
  });

  it('returns the client_secret field of a secret stored as JSON', async () => {
    storeSecret({ SecretString: '{"client_id": "client-1", "client_secret": "json-s3cr3t"}' });

    expect(await clientSecretResolver(inSecretsManager, { client })()).toBe('json-s3cr3t');
  });

  it.each([
    ['an empty string', { SecretString: '' }],
    ['only spaces', { SecretString: '   ' }],
    ['no string at all', { SecretBinary: new Uint8Array([1, 2, 3]) }],
    ['JSON without client_secret', { SecretString: '{"password": "hunter2-xyz"}' }],
    ['broken JSON', { SecretString: '{"client_secret": "hunter2-xyz"' }],
  ])('refuses a secret holding %s, naming the secret id and quoting no secret', async (_what, secret) => {
    storeSecret(secret);

    const error = await refusal(clientSecretResolver(inSecretsManager, { client }));

    expect(error.message).toContain(`secret ${ARN} holds no client secret`);
    expect(error.message).not.toContain('hunter2-xyz');
  });

  it('keeps the secret for five minutes', async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: Date.parse('2026-11-24T11:15:00Z') });
    const resolve = clientSecretResolver(inSecretsManager, { client });
    storeSecret({ SecretString: 'before-rotation' });
    await resolve();
    storeSecret({ SecretString: 'after-rotation' });
    vi.setSystemTime(Date.parse('2026-11-24T11:19:59Z'));

    expect(await resolve()).toBe('before-rotation');
  });

  it('picks up a rotated secret after five minutes, without a redeploy', async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: Date.parse('2026-11-24T11:15:00Z') });
    const resolve = clientSecretResolver(inSecretsManager, { client });
    storeSecret({ SecretString: 'before-rotation' });
    await resolve();
    storeSecret({ SecretString: 'after-rotation' });
    vi.setSystemTime(Date.parse('2026-11-24T11:20:01Z'));

    expect(await resolve()).toBe('after-rotation');
  });
});

describe('clientSecretResolver from the environment', () => {
  it('reads CITRIX_CLIENT_SECRET from the environment it is given', async () => {
    const resolve = clientSecretResolver(fromEnv, {
      localSecrets: (v) => (v === 'CITRIX_CLIENT_SECRET' ? 'local-s3cr3t' : undefined),
      client,
    });

    expect(await resolve()).toBe('local-s3cr3t');
  });

  it('refuses an environment without CITRIX_CLIENT_SECRET and names the variable', async () => {
    const error = await refusal(
      clientSecretResolver(fromEnv, { localSecrets: (v) => (v === 'OTHER' ? 'x' : undefined), client }),
    );

    expect(error.message).toContain('CITRIX_CLIENT_SECRET holds no client secret');
  });
});

describe('clientSecretResolver on the placeholder the stack creates', () => {
  it('refuses the placeholder with BadConfiguration naming the secret and the command that sets it', async () => {
    storeSecret({ SecretString: PLACEHOLDER_SECRET });

    const error = await refusal(clientSecretResolver(inSecretsManager, { client }));

    expect(error.message).toBe(
      `The client secret in ${ARN} is still the placeholder the stack created: set the client secret: aws secretsmanager put-secret-value --secret-id ${ARN} --secret-string '<client secret>'`,
    );
  });

  it('names the listed tenant whose secret is still the placeholder', async () => {
    storeSecret({ SecretString: `${PLACEHOLDER_SECRET}\n` });

    const error = await refusal(clientSecretResolver(inSecretsManager, { client, tenant: 'acme' }));

    expect(error.message).toContain(`The client secret in ${ARN} (tenant acme) is still the placeholder`);
  });

  it('fails the page fetch at once with BadConfiguration, never sending the placeholder to Citrix', async () => {
    storeSecret({ SecretString: PLACEHOLDER_SECRET });
    const citrix = await startStandin();
    onTestFinished(() => citrix.stop());
    const pages = new CitrixClient({
      apiBase: citrix.url,
      customerId: citrix.customerId,
      clientId: citrix.clientId,
      clientSecret: clientSecretResolver(inSecretsManager, { client }),
      pageSize: 100,
      backoffMs: 1,
    });
    const hour = Date.parse('2026-11-24T10:00:00Z');

    const error = await refusal(() =>
      pages.fetchPage(
        pages.firstPageUrl({
          entity: 'Sessions',
          timeField: 'ModifiedDate',
          fromMs: hour,
          toMs: hour + 3_600_000,
        }),
        'Sessions 10:00',
      ),
    );

    expect(error.message).toContain('is still the placeholder the stack created');
    expect(citrix.stats.tokenRequests).toBe(0);
  });

  it.each([
    ['YOUR_CLIENT_SECRET', 'YOUR_CLIENT_SECRET\n'],
    ['<client secret>', '<client secret>'],
    ['YOUR_CLIENT_SECRET', '{"client_secret": "YOUR_CLIENT_SECRET"}'],
  ])(
    'refuses %s, the example value of the command that sets the secret, put as %j',
    async (example, text) => {
      storeSecret({ SecretString: text });

      const error = await refusal(clientSecretResolver(inSecretsManager, { client, tenant: 'acme' }));

      expect(error.name).toBe('BadConfiguration');
      expect(error.message).toBe(
        `The client secret in ${ARN} (tenant acme) is still the example value ${example}, not the client secret: set the client secret: aws secretsmanager put-secret-value --secret-id ${ARN} --secret-string '<client secret>'`,
      );
    },
  );

  it('takes a secret that only mentions the placeholder text further in', async () => {
    storeSecret({ SecretString: 'real-s3cr3t REPLACE-ME' });

    expect(await clientSecretResolver(inSecretsManager, { client })()).toBe('real-s3cr3t REPLACE-ME');
  });
});
