import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { SecretSource } from '../domain/config.ts';
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

/**
 * Resolves the Citrix client secret at run time. From Secrets Manager it goes through Powertools
 * Parameters, which caches it for five minutes, so a rotated secret is picked up without a redeploy. There
 * the secret is either the plain string or a JSON object with a `client_secret` field. `tenant` is the
 * listed tenant the secret is for (null: the environment's one tenant), named in its errors.
 */
export function clientSecretResolver(
  source: SecretSource,
  env: Record<string, string | undefined> = process.env,
  client: () => SecretsManagerClient = () => new SecretsManagerClient({}),
  tenant: string | null = null,
): () => Promise<string> {
  let provider: SecretsProvider | undefined;
  const fromSecretsManager = async (secretId: string): Promise<string | undefined> => {
    provider ??= new SecretsProvider({ awsSdkV3Client: client() });
    const stored = await provider.get(secretId, { maxAge: MAX_AGE_SECONDS }).catch((err: unknown) => {
      const cause = (err as { cause?: unknown }).cause ?? err;
      const name = cause instanceof Error ? cause.name : '';
      if (REFUSED.test(name)) {
        throw new BadConfiguration(
          `Secrets Manager refused the client secret ${secretId} (${name}): check the secret (CITRIX_CLIENT_SECRET_ARN, or the clientSecretArn of the tenant in the tenant list) and that the fetchPage role may read it.`,
          { cause },
        );
      }
      if (cause instanceof Error && isTransientAwsFailure(cause)) {
        throw new StorageTransient(
          `Secrets Manager could not give the client secret ${secretId}${tenant === null ? '' : ` (tenant ${tenant})`} after the AWS SDK's own retries (${name}: ${cause.message}): Secrets Manager or the network is failing for now, and a later attempt may succeed.`,
          { cause },
        );
      }
      throw cause;
    });
    const text = typeof stored === 'string' ? stored.trim() : undefined;
    if (text?.startsWith(PLACEHOLDER_MARK)) {
      throw new BadConfiguration(
        `The client secret in ${secretId}${tenant === null ? '' : ` (tenant ${tenant})`} is still the placeholder the stack created: set the client secret: aws secretsmanager put-secret-value --secret-id ${secretId} --secret-string '<client secret>'`,
      );
    }
    if (!text?.startsWith('{')) return text;
    try {
      const field = (JSON.parse(text) as { client_secret?: unknown }).client_secret;
      return typeof field === 'string' ? field.trim() : undefined;
    } catch {
      return undefined;
    }
  };
  return async () => {
    const value =
      source.kind === 'env' ? env[source.variable]?.trim() : await fromSecretsManager(source.secretId);
    if (!value) {
      const where = source.kind === 'env' ? source.variable : `secret ${source.secretId}`;
      throw new BadConfiguration(
        `${where} holds no client secret: expected the secret as plain text or as JSON {"client_secret": "..."}.`,
      );
    }
    return value;
  };
}
