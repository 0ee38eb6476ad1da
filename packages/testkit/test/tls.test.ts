/**
 * The stand-in over https (its `tls` option), with a throwaway self-signed certificate for 127.0.0.1: a
 * client that trusts the certificate gets tokens and pages whose nextLinks stay on https; one that does
 * not is refused by TLS itself.
 */
import { request } from 'node:https';
import { type Certificate, selfSignedCertificate } from '@citrix-monitor/testkit/certificate';
import { type Standin, startStandin } from '@citrix-monitor/testkit/citrix-standin';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HOUR } from '../../../test/fixtures/time.ts';

const H10 = Date.UTC(2026, 10, 24, 10);
let certificate: Certificate;
let standin: Standin;

beforeAll(async () => {
  certificate = selfSignedCertificate();
  standin = await startStandin({
    dataFromMs: H10,
    dataToMs: H10 + HOUR,
    rowsPerHour: 30,
    serverPageSize: 20,
    tls: { key: certificate.key, cert: certificate.cert },
  });
});

afterAll(async () => {
  await standin?.stop();
  certificate?.remove();
});

interface Answer {
  status: number;
  body: Record<string, unknown>;
}

/** One https request that trusts only `ca` (no `ca`: the default roots, which do not hold the certificate). */
function call(
  url: string,
  options: { ca?: string; method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: options.method ?? 'GET',
        headers: options.headers,
        ...(options.ca ? { ca: options.ca } : {}),
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          text += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

async function token(ca: string): Promise<string> {
  const answer = await call(`${standin.url}/cctrustoauth2/${standin.customerId}/tokens/clients`, {
    ca,
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: `grant_type=client_credentials&client_id=${standin.clientId}&client_secret=${standin.clientSecret}`,
  });
  expect(answer.status).toBe(200);
  return String(answer.body.access_token);
}

describe('the stand-in over https', () => {
  it('listens on an https URL of 127.0.0.1', () => {
    expect(standin.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(standin.collectorEnv().API_BASE).toBe(standin.url);
  });

  it('serves tokens and pages to a client that trusts its certificate, with nextLinks on https', async () => {
    const headers = {
      Authorization: `CWSAuth bearer=${await token(certificate.cert)}`,
      'Citrix-CustomerId': standin.customerId,
    };
    const rows: unknown[] = [];
    const links: string[] = [];
    for (let url: string | undefined = `${standin.url}/monitorodata/Sessions`; url; ) {
      const page = await call(url, { ca: certificate.cert, headers });
      expect(page.status).toBe(200);
      rows.push(...(page.body.value as unknown[]));
      const link = page.body['@odata.nextLink'] as string | undefined;
      if (link) links.push(link);
      url = link;
    }
    expect(rows).toEqual(standin.rowsFor('Sessions', { fromMs: H10, toMs: H10 + HOUR }));
    expect(links.length).toBeGreaterThan(0);
    for (const link of links) expect(link.startsWith(`${standin.url}/monitorodata/Sessions?`)).toBe(true);
  });

  it('is refused by a client that does not trust its certificate', async () => {
    await expect(call(`${standin.url}/monitorodata/Sessions`)).rejects.toMatchObject({
      code: 'DEPTH_ZERO_SELF_SIGNED_CERT',
    });
  });
});
