import { z } from 'zod';
import type { SecretSource } from '../domain/config.ts';
import { BadConfiguration, CitrixAuthFailed, CitrixThrottled, CitrixTransient } from '../domain/errors.ts';
import * as http from './citrix-http.ts';

/** Who the credentials belong to, in the words of the configuration that holds them (for messages only). */
export interface CredentialSource {
  /** The listed tenant; null for the environment's one tenant. */
  readonly tenant: string | null;
  /** Where the client secret comes from; never the secret. */
  readonly secret: SecretSource;
}

/**
 * Where to look when Citrix Cloud refuses the credentials: a listed tenant's own fields in the tenant list,
 * or the environment's variables and secret.
 */
export function credentialFields({ tenant, secret }: CredentialSource): string {
  if (tenant !== null) {
    const secretField =
      secret.kind === 'env'
        ? `clientSecretEnv (${secret.variable})`
        : `clientSecretArn (the secret ${secret.secretId})`;
    return `check customerId, clientId and ${secretField} of tenant "${tenant}" in the tenant list`;
  }
  const secretSetting =
    secret.kind === 'env'
      ? secret.variable
      : `the client secret in the Secrets Manager secret ${secret.secretId} (CITRIX_CLIENT_SECRET_ARN)`;
  return `check CITRIX_CUSTOMER_ID, CITRIX_CLIENT_ID and ${secretSetting}`;
}

export interface TokenOptions {
  readonly base: URL;
  readonly customerId: string;
  readonly clientId: string;
  readonly clientSecret: () => Promise<string>;
  readonly credentials: CredentialSource;
  readonly timeoutMs: number;
  /** Where refusals are reported (never with a credential). */
  readonly warn: (message: string, fields: Record<string, unknown>) => void;
}

/**
 * The token endpoint's answer. `expires_in` has been seen as a string ("3600"): both are read as seconds;
 * without it, Citrix's documented hour.
 */
const tokenResponse = z.object({
  access_token: z.string().min(1),
  expires_in: z
    .union([
      z.number(),
      z
        .string()
        .trim()
        .regex(/^\d+(\.\d+)?$/)
        .transform(Number),
    ])
    .pipe(z.number().positive().finite())
    .default(3600),
});

const RENEW_BEFORE_EXPIRY_MS = 5 * 60_000;

/** When to ask for the next token: five minutes before expiry, or halfway through a shorter life. */
const renewAt = (now: number, lifetimeMs: number) =>
  now + Math.max(lifetimeMs - Math.min(RENEW_BEFORE_EXPIRY_MS, lifetimeMs / 2), 0);

/**
 * The bearer token of one API client. It holds one token at a time and asks for a new one before it
 * expires, or when told that Citrix refused it ({@link drop}). Tokens cannot be refreshed: each is a new
 * client-credentials request.
 */
export class TokenCache {
  private token: { value: string; renewAt: number } | null = null;
  private readonly options: TokenOptions;
  private readonly request: http.RequestInfo;

  constructor(options: TokenOptions) {
    this.options = options;
    const path = `cctrustoauth2/${encodeURIComponent(options.customerId)}/tokens/clients`;
    this.request = {
      what: 'Token request',
      method: 'POST',
      url: new URL(path, options.base).href,
      hostSetting: http.apiBaseSetting(options.credentials.tenant),
    };
  }

  /** A valid token: the one held, or a new one. */
  async get(deadlineMs: number): Promise<string> {
    if (this.token && Date.now() < this.token.renewAt) return this.token.value;
    const { value, lifetimeMs } = this.read(await this.ask(deadlineMs));
    this.token = { value, renewAt: renewAt(Date.now(), lifetimeMs) };
    return value;
  }

  /** Forgets the token (Citrix answered 401 to it): the next {@link get} asks for a new one. */
  drop(): void {
    this.token = null;
  }

  /** The client-credentials request, form-encoded, never following a redirect with the secret. */
  private async ask(deadlineMs: number): Promise<http.Exchange> {
    const { clientId, clientSecret, timeoutMs } = this.options;
    const body = new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: clientId,
      client_secret: await clientSecret(),
    });
    const init: RequestInit = {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
      body,
      redirect: 'manual',
    };
    return http.exchange(this.request, init, { timeoutMs, deadlineMs });
  }

  /** The token and its lifetime, or the error its answer means. */
  private read({ res, text }: http.Exchange): { value: string; lifetimeMs: number } {
    const refused = this.refusal(res);
    if (refused) throw refused;
    const parsed = res.status === 200 ? tokenResponse.safeParse(http.jsonOf(text)) : null;
    if (parsed?.success)
      return { value: parsed.data.access_token, lifetimeMs: parsed.data.expires_in * 1000 };
    throw this.notAToken(res, text);
  }

  /** A redirect, a refusal of the credentials or throttling; null for any other answer. */
  private refusal(res: Response): Error | null {
    if (http.redirected(res)) {
      return new CitrixAuthFailed(
        http.said(
          this.request,
          `the token endpoint answered a redirect (HTTP ${res.status}); it was not followed, so the client secret went nowhere else. Check ${this.request.hostSetting}.`,
        ),
      );
    }
    if (res.status === 400 || res.status === 401 || res.status === 403) return this.refused(res.status);
    if (res.status !== 429) return null;
    const failure = new CitrixThrottled(http.said(this.request, `Citrix answered 429; retried.`));
    return new http.Retriable(failure, http.retryAfter(res));
  }

  /** Citrix Cloud refused the API client: the credentials are wrong, for this tenant's own settings. */
  private refused(status: number): CitrixAuthFailed {
    const { credentials } = this.options;
    this.options.warn('Citrix refused the API client', { ...http.loggedRequest(this.request), status });
    return new CitrixAuthFailed(
      http.said(
        this.request,
        `Citrix Cloud refused the API client (HTTP ${status}): ${credentialFields(credentials)}.`,
      ),
    );
  }

  /**
   * An answer that is not a token. Under an API base with a path (the `…/monitorodata` pasted from
   * Citrix's documentation), or as a 404, the token endpoint is not there: a retry cannot help. Anything
   * else (a gateway's HTML page, JSON cut short) is retried.
   */
  private notAToken(res: Response, text: string): Error {
    const { base } = this.options;
    const setting = this.request.hostSetting;
    if (base.pathname !== '/') {
      return new BadConfiguration(
        http.said(
          this.request,
          `the token endpoint answered HTTP ${res.status} without a token: ${setting} must be the host only, e.g. https://api.cloud.com (it is ${base.href.replace(/\/$/, '')}).`,
        ),
      );
    }
    if (res.status === 404) {
      return new BadConfiguration(
        http.said(
          this.request,
          `the token endpoint answered HTTP 404: is ${setting} right? It must be the Citrix Cloud API host, e.g. https://api.cloud.com.`,
        ),
      );
    }
    const what =
      http.jsonOf(text) === undefined
        ? http.describeBody(res, text)
        : `JSON without a usable access_token (HTTP ${res.status})`;
    const failure = new CitrixTransient(
      http.said(
        this.request,
        `the token endpoint answered ${what} instead of a token; retried. If it persists, check ${setting} and Citrix Cloud's status.`,
      ),
    );
    return new http.Retriable(failure, http.retryAfter(res));
  }
}
