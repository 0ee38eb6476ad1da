import { describe, expect, it } from 'vitest';
import { connectFailureCode, hostAndPort, shownUrl } from '../../functions/adapters/citrix-http.ts';

// How the Citrix client reads a failed request and shows a URL. The errors are shaped as Node's fetch
// throws them (`TypeError: fetch failed` with the system error as its cause); a closed port is tried for
// real in citrix-client.test.ts.

/** A failed fetch whose cause is a system error with this code and call. */
const fetchFailed = (code: string, syscall?: string) =>
  new TypeError('fetch failed', {
    cause: Object.assign(new Error(`${syscall ?? 'connect'} ${code}`), { code, syscall }),
  });

describe('connectFailureCode', () => {
  it.each([
    ['ECONNREFUSED', 'connect'],
    ['ENOTFOUND', 'getaddrinfo'],
    ['EAI_AGAIN', 'getaddrinfo'],
    ['ETIMEDOUT', 'connect'],
    ['EHOSTUNREACH', 'connect'],
    ['UND_ERR_CONNECT_TIMEOUT', undefined],
  ])('names %s as a connection that could not be made', (code, syscall) => {
    expect(connectFailureCode(fetchFailed(code, syscall))).toBe(code);
  });

  it.each([
    ['a reset', fetchFailed('ECONNRESET', 'read')],
    ['a timeout on a connection already made', fetchFailed('ETIMEDOUT', 'read')],
    ['a socket closed mid-body', fetchFailed('UND_ERR_SOCKET')],
    ['a request timeout', new DOMException('The request timed out', 'TimeoutError')],
    ['an error without a cause', new TypeError('fetch failed')],
  ])('leaves %s to the backoff', (_what, err) => {
    expect(connectFailureCode(err)).toBeNull();
  });
});

describe('hostAndPort', () => {
  it.each([
    ['https://api.cloud.com/monitorodata/Sessions', 'api.cloud.com:443'],
    ['http://127.0.0.1:4567/cctrustoauth2/c/tokens/clients', '127.0.0.1:4567'],
    ['http://standin.local/x', 'standin.local:80'],
  ])('writes out the port of %s', (url, expected) => {
    expect(hostAndPort(url)).toBe(expected);
  });
});

describe('shownUrl', () => {
  it('shows a URL without credentials as it is, encoding and all', () => {
    const url = 'https://api.cloud.com/monitorodata/Sessions?$filter=Id%20gt%205&$skiptoken=2';

    expect(shownUrl(url)).toBe(url);
  });

  it('hides user info and the value of a parameter that may be a credential', () => {
    const url = 'https://user:pw@api.cloud.com/x?$skiptoken=2&access_token=abc&Client_Secret=def&sig=ghi#top';

    expect(shownUrl(url)).toBe(
      'https://api.cloud.com/x?$skiptoken=2&access_token=HIDDEN&Client_Secret=HIDDEN&sig=HIDDEN#top',
    );
  });
});
