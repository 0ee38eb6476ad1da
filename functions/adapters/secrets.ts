import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { z } from 'zod';
import type { LocalSecrets, SecretSource } from '../domain/config.ts';
import { BadConfiguration, StorageTransient } from '../domain/errors.ts';
import { isTransientAwsFailure } from './s3-store.ts';

/** How long a secret read from Secrets Manager is kept: a rotated secret is picked up within this. */
const MAX_AGE_SECONDS = 5 * 60;

/**
 * What the secret the stack creates holds until the operator puts the client secret (serverless.yml,
 * CitrixClientSecret). Recognised so that runs fail with BadConfiguration saying so, not CitrixAuthFailed.
 */
export const PLACEHOLDER_SECRET = 'REPLACE-ME: put the Citrix client secret here';
/** A secret starting so is the placeholder, even with its text edited. */
const PLACEHOLDER_MARK = 'REPLACE-ME';

/** Secrets Manager's answers that a retry will not change: the ARN, the role or the key is wrong. */
const REFUSED = /AccessDenied|ResourceNotFound|InvalidRequest|InvalidParameter|DecryptionFailure/;

/** What the secret's JSON form holds: `{"client_secret": "..."}`, perhaps with other fields. */
const SecretJson = z.object({ client_secret: z.string() });

/** ` (tenant x)` for a listed tenant's secret; nothing for the environment's one tenant. */
const ofTenant = (tenant: string | null) => (tenant === null ? '' : ` (tenant ${tenant})`);

/** Where {@link clientSecretResolver} reads a secret, and whose it is. */
export interface ResolverOptions {
  /** The variables a local run names for a secret (`source.kind` env); none by default. */
  readonly localSecrets?: LocalSecrets;
  /** The Secrets Manager client, made on first use. */
  readonly client?: () => SecretsManagerClient;
  /** The listed tenant the secret is for, named in its errors; null: the environment's one tenant. */
  readonly tenant?: string | null;
}

/**
 * Resolves the Citrix client secret at run time. From Secrets Manager it goes through Powertools
 * Parameters, which caches it for five minutes, so a rotated secret is picked up without a redeploy. There
 * the secret is either the plain string or a JSON object with a `client_secret` field. `tenant` is the
 * listed tenant the secret is for (null: the environment's one tenant), named in its errors.
 */
export function clientSecretResolver(
  source: SecretSource,
  options: ResolverOptions = {},
): () => Promise<string> {
  const { localSecrets = () => undefined, tenant = null } = options;
  const client = options.client ?? (() => new SecretsManagerClient({}));
  let provider: SecretsProvider | undefined;
  const fromSecretsManager = async (secretId: string): Promise<string | undefined> => {
    provider ??= new SecretsProvider({ awsSdkV3Client: client() });
    const text = await readSecret(provider, secretId, tenant);
    const secret = text?.startsWith('{') ? clientSecretOfJson(text) : text;
    // The stack's placeholder is the whole text; an example value may also be the JSON form's field.
    refusePlaceholder(text?.startsWith(PLACEHOLDER_MARK) ? text : secret, secretId, tenant);
    return secret;
  };
  return async () => {
    const value =
      source.kind === 'env'
        ? localSecrets(source.variable)?.trim()
        : await fromSecretsManager(source.secretId);
    if (!value) {
      const where = source.kind === 'env' ? source.variable : `secret ${source.secretId}`;
      throw new BadConfiguration(
        `${where} holds no client secret: expected the secret as plain text or as JSON {"client_secret": "..."}.`,
      );
    }
    return value;
  };
}

/** The secret's text, trimmed (undefined for a binary secret); its failures in the collector's vocabulary. */
async function readSecret(
  provider: SecretsProvider,
  secretId: string,
  tenant: string | null,
): Promise<string | undefined> {
  const stored = await provider.get(secretId, { maxAge: MAX_AGE_SECONDS }).catch((err: unknown) => {
    throw secretsManagerFailure(err, secretId, tenant);
  });
  return typeof stored === 'string' ? stored.trim() : undefined;
}

/**
 * A failed read as BadConfiguration (the ARN, the role or the key is wrong), StorageTransient (a later
 * attempt may succeed), or the SDK's own error. Powertools wraps the SDK's error: its `cause` is the answer.
 */
function secretsManagerFailure(err: unknown, secretId: string, tenant: string | null): unknown {
  const cause = typeof err === 'object' && err !== null && 'cause' in err ? (err.cause ?? err) : err;
  const name = cause instanceof Error ? cause.name : '';
  if (REFUSED.test(name))
    return new BadConfiguration(
      `Secrets Manager refused the client secret ${secretId} (${name}): check the secret (CITRIX_CLIENT_SECRET_ARN, or the clientSecretArn of the tenant in the tenant list) and that the fetchPage role may read it.`,
      { cause },
    );
  if (cause instanceof Error && isTransientAwsFailure(cause))
    return new StorageTransient(
      `Secrets Manager could not give the client secret ${secretId}${ofTenant(tenant)} after the AWS SDK's own retries (${name}: ${cause.message}): Secrets Manager or the network is failing for now, and a later attempt may succeed.`,
      { cause },
    );
  return cause;
}

/**
 * The example values of the commands that set the secret (this module's message), pasted as they are; README,
 * "Deploy in five steps", and docs/deploying.md, "Deploying", say they are refused.
 */
const EXAMPLE_SECRETS = new Set(['YOUR_CLIENT_SECRET', '<client secret>']);

/** What a secret's text still is instead of a client secret, if it is a placeholder: null if it is not. */
function placeholder(text: string | undefined): string | null {
  if (text?.startsWith(PLACEHOLDER_MARK)) return 'the placeholder the stack created';
  const trimmed = text?.trim() ?? '';
  return EXAMPLE_SECRETS.has(trimmed) ? `the example value ${trimmed}, not the client secret` : null;
}

/**
 * Refuses the placeholder the stack created, and the example value of the command that replaces it, so
 * that runs say so rather than fail as CitrixAuthFailed.
 */
function refusePlaceholder(text: string | undefined, secretId: string, tenant: string | null): void {
  const what = placeholder(text);
  if (what)
    throw new BadConfiguration(
      `The client secret in ${secretId}${ofTenant(tenant)} is still ${what}: set the client secret: aws secretsmanager put-secret-value --secret-id ${secretId} --secret-string '<client secret>'`,
    );
}

/** The `client_secret` field of the secret's JSON form, trimmed; undefined if the text has none. */
function clientSecretOfJson(text: string): string | undefined {
  try {
    const parsed = SecretJson.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data.client_secret.trim() : undefined;
  } catch {
    return undefined; // not JSON after all
  }
}
