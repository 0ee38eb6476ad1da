import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { compress, ndjsonLines } from '../../functions/lib/ndjson.ts';

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

describe('ndjsonLines', () => {
  it('writes one JSON object per line, even when a value holds a line break', () => {
    const text = ndjsonLines(rows).toString('utf8');

    expect(text.split('\n')).toEqual([JSON.stringify(session), JSON.stringify(failure), '']);
  });

  it('keeps every row exactly as the API returned it', () => {
    const text = ndjsonLines(rows).toString('utf8');

    expect(
      text
        .trimEnd()
        .split('\n')
        .map((line) => JSON.parse(line)),
    ).toEqual(rows);
  });

  it('ends the last row with a newline', () => {
    const text = ndjsonLines(rows).toString('utf8');

    expect(text.endsWith('}\n')).toBe(true);
  });

  it('writes nothing for a page without rows', () => {
    expect(ndjsonLines([]).length).toBe(0);
  });
});

describe('compress', () => {
  it('gzips to a file that unzips to the same text', async () => {
    const plain = ndjsonLines(rows);

    const zipped = await compress(plain, 'gzip');

    expect(gunzipSync(zipped).toString('utf8')).toBe(plain.toString('utf8'));
  });

  it('leaves the text as it is without compression', async () => {
    expect(await compress(ndjsonLines(rows), 'none')).toEqual(ndjsonLines(rows));
  });
});
