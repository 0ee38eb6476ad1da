import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { oauthError, type Reply, readBody } from './http.ts';
import type { Tenant, Tenants } from './tenants.ts';

/** Citrix Cloud's token endpoint: client credentials in, a bearer token of one tenant out. */

/** The tokens issued, each to a tenant until it expires by the token clock. */
export class Tokens {
  private readonly issued = new Map<string, { expiresMs: number; tenant: Tenant }>();
  private readonly ttlMs: number;
  private readonly clock: () => number;

  constructor(ttlMs: number, clock: () => number) {
    this.ttlMs = ttlMs;
    this.clock = clock;
  }

  /** Issues a token to `tenant` (forgetting expired ones); the body of the token answer. */
  issue(tenant: Tenant): { token_type: string; access_token: string; expires_in: string } {
    const now = this.clock();
    for (const [t, issued] of this.issued) if (issued.expiresMs <= now) this.issued.delete(t);
    const accessToken = randomBytes(24).toString('base64url');
    this.issued.set(accessToken, { expiresMs: now + this.ttlMs, tenant });
    return { token_type: 'bearer', access_token: accessToken, expires_in: String(this.ttlMs / 1000) };
  }

  /** The tenant a live token was issued to; undefined for no token, an unknown one or an expired one. */
  holder(token: string | undefined): Tenant | undefined {
    const issued = token ? this.issued.get(token) : undefined;
    if (issued === undefined || issued.expiresMs <= this.clock()) return undefined;
    return issued.tenant;
  }

  /** Invalidates every issued token. */
  clear(): void {
    this.issued.clear();
  }
}

/** A token request being answered: the request, how to answer it, and the customer its path names. */
export interface TokenRequest {
  req: IncomingMessage;
  reply: Reply;
  customer: string;
}

/** POST /cctrustoauth2/{customer}/tokens/clients: the `root` customer serves the client's own tenant. */
export async function tokenEndpoint(
  { req, reply, customer }: TokenRequest,
  tenants: Tenants,
  tokens: Tokens,
): Promise<void> {
  const type = String(req.headers['content-type'] ?? '');
  const form = new URLSearchParams(await readBody(req));
  const clientId = form.get('client_id');
  const tenant = customer === 'root' ? tenants.ofClient(clientId) : tenants.ofCustomer(customer);
  const { stats } = tenant ?? tenants.main;
  stats.tokenRequests++;
  if (!type.startsWith('application/x-www-form-urlencoded')) {
    return reply(400, oauthError('invalid_request', 'Form-encoded body expected'));
  }
  if (form.get('grant_type') !== 'client_credentials') {
    return reply(400, oauthError('unsupported_grant_type', 'Only client_credentials is supported'));
  }
  if (!tenant || clientId !== tenant.api.clientId || form.get('client_secret') !== tenant.api.clientSecret) {
    stats.unauthorized++;
    return reply(401, oauthError('invalid_client', 'Invalid client credentials'));
  }
  const body = tokens.issue(tenant);
  return reply(200, JSON.stringify(body), { 'Content-Type': 'application/json; charset=utf-8' });
}
