/**
 * A stand-in of our own for the one Secrets Manager call the collector makes, `GetSecretValue`: Secrets
 * Manager is a control-plane API with no local implementation to run (neither s3rver nor Ceph RGW has
 * one). It answers the AWS JSON 1.1 protocol as the service does (`POST /`, `X-Amz-Target:
 * secretsmanager.GetSecretValue`, a JSON body with `SecretId`), checks that the request is SigV4-signed
 * with the function's credentials for this region and service, and serves one secret by its ARN or name.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SecretsManagerStandin {
  /** e.g. `http://127.0.0.1:54321`: the `AWS_ENDPOINT_URL_SECRETS_MANAGER` to set. */
  readonly url: string;
  /** SecretIds asked for, in order. */
  readonly requests: string[];
  stop(): Promise<void>;
}

const JSON_11 = 'application/x-amz-json-1.1';

function reply(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': JSON_11, 'Content-Length': String(Buffer.byteLength(text)) });
  res.end(text);
}

const error = (res: ServerResponse, status: number, type: string, message: string) =>
  reply(res, status, { __type: type, message });

async function body(req: IncomingMessage): Promise<string> {
  let text = '';
  for await (const chunk of req) text += String(chunk);
  return text;
}

/**
 * Serves `secret` (its ARN, name and `SecretString`) to requests signed with `accessKeyId` in `region`.
 */
export async function startSecretsManager(
  secret: { arn: string; name: string; value: string },
  accessKeyId: string,
  region: string,
): Promise<SecretsManagerStandin> {
  const requests: string[] = [];
  const server = createServer((req, res) => {
    void (async () => {
      const text = await body(req);
      const target = String(req.headers['x-amz-target'] ?? '');
      const scope = `Credential=${accessKeyId}/`;
      const auth = String(req.headers.authorization ?? '');
      if (
        !auth.startsWith('AWS4-HMAC-SHA256 ') ||
        !auth.includes(scope) ||
        !auth.includes(`/${region}/secretsmanager/aws4_request`)
      ) {
        return error(
          res,
          400,
          'UnrecognizedClientException',
          'The security token included in the request is invalid.',
        );
      }
      if (req.method !== 'POST' || !String(req.headers['content-type']).startsWith(JSON_11)) {
        return error(res, 400, 'InvalidRequestException', `expected POST with ${JSON_11}`);
      }
      if (target !== 'secretsmanager.GetSecretValue') {
        return error(res, 400, 'UnknownOperationException', `${target} is not served by this stand-in`);
      }
      const { SecretId: id } = JSON.parse(text) as { SecretId?: string };
      requests.push(String(id));
      if (id !== secret.arn && id !== secret.name) {
        return error(
          res,
          400,
          'ResourceNotFoundException',
          "Secrets Manager can't find the specified secret.",
        );
      }
      return reply(res, 200, {
        ARN: secret.arn,
        Name: secret.name,
        SecretString: secret.value,
        VersionId: '00000000-0000-4000-8000-000000000000',
        VersionStages: ['AWSCURRENT'],
        CreatedDate: 1_795_000_000,
      });
    })().catch(() => error(res, 500, 'InternalServiceError', 'stand-in error'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
