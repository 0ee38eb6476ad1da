import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { encodePage } from '../../functions/lib/ndjson.ts';

/** A real Sessions row from Citrix's documentation, with its two-digit fraction left as it is. */
const session = {
  SessionKey: '4569fdfd-54c4-44c8-81a9-40688a2771d6',
  StartDate: '2024-07-31T11:22:37.473Z',
  EndDate: null,
  ConnectionState: 5,
  CurrentConnectionId: 887132,
  UserId: 6,
  MachineId: '7eb414f9-533c-498f-a72f-b4459625100e',
  SessionType: 0,
  CreatedDate: '2024-07-31T11:22:37.473Z',
  ModifiedDate: '2024-08-06T07:08:50.72Z',
};
const failure = { Id: 42, FailureDate: '2026-11-24T10:59:59.9999999Z', Detail: 'line one\nline two' };
const rows = [session, failure];

describe('encodePage', () => {
  it('writes one JSON object per line, even when a value holds a line break', async () => {
    const text = (await encodePage(rows, 'none')).toString('utf8');

    expect(text.split('\n')).toEqual([JSON.stringify(session), JSON.stringify(failure), '']);
  });

  it('keeps every row exactly as the API returned it', async () => {
    const text = (await encodePage(rows, 'none')).toString('utf8');

    expect(
      text
        .trimEnd()
        .split('\n')
        .map((line) => JSON.parse(line)),
    ).toEqual(rows);
  });

  it('ends the last row with a newline', async () => {
    const text = (await encodePage(rows, 'none')).toString('utf8');

    expect(text.endsWith('}\n')).toBe(true);
  });

  it('gzips to a file that unzips to the same text', async () => {
    const plain = await encodePage(rows, 'none');

    const zipped = await encodePage(rows, 'gzip');

    expect(gunzipSync(zipped).toString('utf8')).toBe(plain.toString('utf8'));
  });

  it('writes nothing for an empty page', async () => {
    expect((await encodePage([], 'none')).length).toBe(0);
  });
});
