import { BadConfiguration } from './errors.ts';

/**
 * The hosts of Citrix Cloud's APIs: `api.cloud.com`, the regional `api-us.cloud.com`, `api-eu.cloud.com`
 * and `api-ap-s.cloud.com`, and `api.citrixcloud.jp` (Japan), as Citrix's docs list them ("Get started
 * with Citrix Cloud APIs"; CTX312284), and `api.cloud.us` (US Government), the host Google's guide to
 * collecting Citrix Monitor logs gives for that cloud. A tenant's client secret goes to its API host's
 * token endpoint, so a tenant list may name only these (and what the operator adds:
 * {@link allowedApiHosts}).
 */
export const CITRIX_API_HOSTS: readonly string[] = Object.freeze([
  'api.cloud.com',
  'api-us.cloud.com',
  'api-eu.cloud.com',
  'api-ap-s.cloud.com',
  'api.citrixcloud.jp',
  'api.cloud.us',
]);

/** Loopback hosts, as `URL.hostname` gives them: where local runs and tests serve the Citrix stand-in. */
const LOOPBACK_HOSTS: readonly string[] = ['127.0.0.1', 'localhost', '[::1]'];

/** A DNS name or dotted IPv4 address: letters, digits and hyphens in dot-separated labels of 1 to 63. */
const HOST_NAME =
  /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/;

/**
 * Whether `host` (lower-case) is a host name as `URL.hostname` would give it: a DNS name, a dotted IPv4
 * address, or a bracketed IPv6 address in its shortest form (`[::1]`). Anything else (a scheme, a port,
 * a path, a wildcard) could never equal a URL's hostname, so it is a mistake in the setting.
 */
function isHostName(host: string): boolean {
  let hostname: string;
  try {
    hostname = new URL(`https://${host}/`).hostname;
  } catch {
    return false;
  }
  return hostname === host && (HOST_NAME.test(host) || /^\[[0-9a-f:.]+\]$/.test(host));
}

/**
 * The hosts a listed tenant's `apiBase` may name: {@link CITRIX_API_HOSTS}, the host names of
 * `extra` (ALLOWED_API_HOSTS: comma-separated, e.g. `citrix-proxy.example.internal,api.other.example`),
 * and, for local runs only (`inAws` false), the loopback hosts `127.0.0.1`, `localhost` and `[::1]`:
 * in AWS a loopback host would be the Lambda itself, so it is allowed there only when listed in `extra`.
 * All lower-case. Throws {@link BadConfiguration} naming ALLOWED_API_HOSTS and the entry that is not a
 * host name.
 */
export function allowedApiHosts(extra: string | undefined, inAws: boolean): readonly string[] {
  const listed = (extra ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
  for (const entry of listed) {
    if (!isHostName(entry.toLowerCase())) {
      throw new BadConfiguration(
        `ALLOWED_API_HOSTS entry ${JSON.stringify(entry)} is not a host name: expected comma-separated host names without scheme, port or path, e.g. "citrix-proxy.example.internal,api.other.example".`,
      );
    }
  }
  const hosts = [...CITRIX_API_HOSTS, ...listed.map((entry) => entry.toLowerCase())];
  return [...new Set(inAws ? hosts : [...hosts, ...LOOPBACK_HOSTS])];
}

/**
 * Refuses an API base whose host is not in `allowed` ({@link allowedApiHosts}), with a
 * {@link BadConfiguration} naming the host, the allowed hosts and what to do. Only `URL.hostname` is
 * compared, case-insensitively (the URL parser lower-cases it): the port and path do not matter, since
 * what the check guards is which machine receives the client secret, and a port does not change that.
 * The message names the host alone, never the whole URL, which might hold credentials.
 */
export function checkApiHost(apiBase: string, allowed: readonly string[]): void {
  const host = new URL(apiBase).hostname;
  if (allowed.includes(host)) return;
  throw new BadConfiguration(
    `apiBase names host ${JSON.stringify(host)}, which is not an allowed API host (${allowed.join(', ')}): the tenant's client secret would be sent to it. Use one of the Citrix Cloud API hosts, or add the host to the deploy parameter allowedApiHosts (the environment variable ALLOWED_API_HOSTS).`,
  );
}
