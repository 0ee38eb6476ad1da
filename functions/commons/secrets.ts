import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { SecretSource } from './config.ts';
import { BadConfiguration } from './errors.ts';

const CACHE_MS = 5 * 60_000;

/**
 * Resolves the Citrix client secret at run time and caches it for five minutes, so a rotated secret
 * is picked up without a redeploy. In Secrets Manager the secret is either the plain string or a JSON
 * object with a `client_secret` field.
 */
export function clientSecretResolver(
  source: SecretSource,
  env: Record<string, string | undefined> = process.env,
  client: () => SecretsManagerClient = () => new SecretsManagerClient({}),
): () => Promise<string> {
  let cached: { value: string; until: number } | null = null;
  return async () => {
    if (cached && Date.now() < cached.until) return cached.value;
    let value: string | undefined;
    if (source.kind === 'env') {
      value = env[source.variable]?.trim();
    } else {
      const out = await client()
        .send(new GetSecretValueCommand({ SecretId: source.secretId }))
        .catch((err: unknown) => {
          const name = err instanceof Error ? err.name : '';
          if (/AccessDenied|ResourceNotFound|InvalidRequest|InvalidParameter|DecryptionFailure/.test(name)) {
            throw new BadConfiguration(
              `Secrets Manager refused the client secret ${source.secretId} (${name}): check CITRIX_CLIENT_SECRET_ARN and that the fetchPage role may read it.`,
              { cause: err },
            );
          }
          throw err;
        });
      value = out.SecretString?.trim();
      if (value?.startsWith('{')) {
        try {
          value = (JSON.parse(value) as { client_secret?: string }).client_secret;
        } catch {
          value = undefined;
        }
      }
    }
    if (!value) {
      const where = source.kind === 'env' ? source.variable : `secret ${source.secretId}`;
      throw new BadConfiguration(
        `${where} holds no client secret: expected the secret as plain text or as JSON {"client_secret": "..."}.`,
      );
    }
    cached = { value, until: Date.now() + CACHE_MS };
    return value;
  };
}
