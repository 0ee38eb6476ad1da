import { describe, expect, it } from 'vitest';
import { BadConfiguration, CitrixBadQuery } from '../../functions/domain/errors.ts';
import { type Cursor, EntityPages, type EntityWindow } from '../../functions/domain/pager.ts';
import { type KeyPageQuery, OutOfTime, type Page } from '../../functions/domain/ports.ts';

// The pager is domain code over a port (the Citrix client's four calls). Here the port is a small
// in-memory table of pages that answers by the cursor it is asked for, written for this test: what the
// client sends over HTTP is tested in citrix-client.test.ts, and the pager against the real stand-in in
// the integration tests.

const HOUR = Date.parse('2026-11-24T10:00:00Z');
const byKey: EntityWindow = {
  entity: 'Sessions',
  timeField: 'ModifiedDate',
  fromMs: HOUR,
  toMs: HOUR + 3_600_000,
  keyField: 'SessionKey',
  pageSize: 2,
};
const about = (page: number) => ({ what: `Sessions page ${page}`, fields: { page } });
const row = (key: string | number) => ({ SessionKey: key, ModifiedDate: '2026-11-24T10:00:01Z' });

/** Answers a key request with `answers[after]` (after = the key sent, or 'start'); records each request. */
function keyedSource(answers: Record<string, Page | Error>) {
  const asked: Array<KeyValueOrStart> = [];
  type KeyValueOrStart = string | number;
  const source = {
    keyPageUrl: (q: KeyPageQuery) => JSON.stringify(q.after ?? 'start'),
    firstPageUrl: () => 'first',
    resolveNextLink: (link: string) => link,
    async fetchPage(url: string): Promise<Page> {
      const after = JSON.parse(url) as KeyValueOrStart;
      asked.push(after);
      const answer = answers[String(after)];
      if (answer === undefined) throw new Error(`no page after ${after}`);
      if (answer instanceof Error) throw answer;
      return answer;
    },
  };
  return { source, asked };
}

const page = (keys: Array<string | number>, nextLink: string | null = null): Page => ({
  rows: keys.map(row),
  nextLink,
  bytes: 10 * keys.length,
});

async function drain(pages: EntityPages): Promise<unknown[]> {
  const rows: unknown[] = [];
  for await (const p of pages) rows.push(...p.rows);
  return rows;
}

describe('EntityPages by key', () => {
  it('asks after the last key of each full page, exactly as the server wrote it, until a short page', async () => {
    const { source, asked } = keyedSource({
      start: page(['b-guid', 'A-GUID']),
      'A-GUID': page([7, 3]),
      '3': page(['z']),
    });
    const pages = new EntityPages(source, byKey, { start: null, deadlineMs: Date.now() + 60_000, about });

    const rows = await drain(pages);

    expect(rows).toEqual(['b-guid', 'A-GUID', 7, 3, 'z'].map(row));
    expect(asked).toEqual(['start', 'A-GUID', 3]);
    expect(pages.resumeAt).toBeNull();
    expect(pages.received).toBe(3);
  });

  it('goes on after a short page that carries a nextLink (a server cap under $top), by key, not by the link', async () => {
    const { source, asked } = keyedSource({
      start: page(['a'], 'https://api.cloud.com/monitorodata/Sessions?$skip=1'),
      a: page([]),
    });

    await drain(new EntityPages(source, byKey, { start: null, deadlineMs: Date.now() + 60_000, about }));

    expect(asked).toEqual(['start', 'a']);
  });

  it('starts from the cursor of a continuation', async () => {
    const { source, asked } = keyedSource({ k9: page(['k10']) });

    const rows = await drain(
      new EntityPages(source, byKey, { start: { after: 'k9' }, deadlineMs: Date.now() + 60_000, about }),
    );

    expect(rows).toEqual([row('k10')]);
    expect(asked).toEqual(['k9']);
  });

  it('hands back the cursor of the page that was not finished when its request runs out of time', async () => {
    const { source } = keyedSource({ start: page(['a', 'b']), b: new OutOfTime('budget used') });
    const pages = new EntityPages(source, byKey, { start: null, deadlineMs: Date.now() + 60_000, about });

    const rows = await drain(pages);

    expect(rows).toEqual([row('a'), row('b')]);
    expect(pages.resumeAt).toEqual({ after: 'b' } satisfies Cursor);
    expect(pages.received).toBe(1);
  });

  it('starts no request after the deadline and hands back the next cursor', async () => {
    const { source, asked } = keyedSource({ start: page(['a', 'b']) });
    const pages = new EntityPages(source, byKey, { start: null, deadlineMs: Date.now() - 1, about });

    await drain(pages);

    expect(asked).toEqual(['start']);
    expect(pages.resumeAt).toEqual({ after: 'b' });
  });

  it('fails with CitrixBadQuery when the server sends the last key again (it ignored the key filter)', async () => {
    const { source } = keyedSource({ start: page(['a', 'b']), b: page(['b', 'c']) });

    const error = await drain(
      new EntityPages(source, byKey, { start: null, deadlineMs: Date.now() + 60_000, about }),
    ).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(CitrixBadQuery);
    expect((error as Error).message).toContain('NEXTLINK_PAGING=Sessions');
  });

  it('fails with BadConfiguration naming KEY_FIELDS when the rows lack the key field', async () => {
    const { source } = keyedSource({ start: page(['a', 'b']) });
    const window = { ...byKey, keyField: 'Id' };

    const error = await drain(
      new EntityPages(source, window, { start: null, deadlineMs: Date.now() + 60_000, about }),
    ).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(BadConfiguration);
    expect((error as Error).message).toContain('no usable key in Id');
    expect((error as Error).message).toContain('KEY_FIELDS');
  });
});

describe('EntityPages by nextLink', () => {
  it('follows the server links from the first page to the page without one', async () => {
    const links: Record<string, Page> = {
      first: page(['a', 'b'], 'second'),
      second: page(['c'], null),
    };
    const asked: string[] = [];
    const source = {
      keyPageUrl: () => 'unused',
      firstPageUrl: () => 'first',
      resolveNextLink: (link: string) => link,
      fetchPage: async (url: string) => {
        asked.push(url);
        return links[url] ?? page([]);
      },
    };
    const pages = new EntityPages(
      source,
      { ...byKey, keyField: null },
      { start: null, deadlineMs: Date.now() + 60_000, about },
    );

    const rows = await drain(pages);

    expect(rows).toEqual(['a', 'b', 'c'].map(row));
    expect(asked).toEqual(['first', 'second']);
    expect(pages.resumeAt).toBeNull();
  });
});
