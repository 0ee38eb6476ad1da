import { BadConfiguration, CitrixBadQuery } from './errors.ts';
import { type CitrixPages, type KeyValue, OutOfTime, type Page } from './ports.ts';

/**
 * Where an entity-window's paging stands between two requests (and two invocations):
 * - by key: the last key received, exactly as the server wrote it (null before the first page);
 * - by nextLink: the server's link to the next page.
 */
export type Cursor = { readonly after: KeyValue | null } | { readonly nextLink: string };

/** What to page: one entity, one half-open window, and how. */
export interface EntityWindow {
  readonly entity: string;
  readonly timeField: string;
  readonly fromMs: number;
  readonly toMs: number;
  /** The key field to page by, or null to follow the server's nextLinks (offsets). */
  readonly keyField: string | null;
  /** Rows per request (`$top` when paging by key). */
  readonly pageSize: number;
}

/** Names a Citrix page in messages and logs. */
export type About = (page: number) => { what: string; fields: Record<string, unknown> };

/** Where an invocation's paging starts, when it must stop, and how it names pages. */
export interface PagingOptions {
  /** The cursor of the first page to request; null for the entity-window's first page. */
  readonly start: Cursor | null;
  /** No request starts after this (ms since the epoch), and the one under way gives up at it. */
  readonly deadlineMs: number;
  readonly about: About;
  /** Citrix pages received by earlier invocations, to number pages in messages. */
  readonly pagesBefore?: number;
}

/**
 * The Citrix pages of one entity-window, from a cursor until the last page or the deadline. It owns the
 * prefetch (the next request leaves as soon as a page is in, while the caller stages it; Citrix takes one
 * call at a time, so the fetch is what limits throughput) and the deadline (no request starts after it,
 * and the one under way gives up at it). Once iterated, {@link resumeAt} says where the next invocation
 * starts: null when the entity-window is complete.
 */
export class EntityPages implements AsyncIterable<Page> {
  /** The cursor of the first page not received; null once the last page was received. */
  resumeAt: Cursor | null;
  /** Citrix pages received. */
  received = 0;
  private readonly citrix: CitrixPages;
  private readonly window: EntityWindow;
  private readonly deadlineMs: number;
  private readonly about: About;
  /** Citrix pages received by earlier invocations, to number pages in messages. */
  private readonly pagesBefore: number;

  constructor(
    citrix: CitrixPages,
    window: EntityWindow,
    { start, deadlineMs, about, pagesBefore = 0 }: PagingOptions,
  ) {
    this.citrix = citrix;
    this.window = window;
    this.deadlineMs = deadlineMs;
    this.about = about;
    this.pagesBefore = pagesBefore;
    this.resumeAt = start ?? (window.keyField === null ? { nextLink: this.firstUrl() } : { after: null });
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Page> {
    let cursor = this.resumeAt;
    let pending = cursor && this.request(cursor);
    try {
      while (cursor && pending) {
        let page: Page;
        try {
          page = await pending;
        } catch (err) {
          if (err instanceof OutOfTime) return; // resumeAt is still this page's cursor
          throw err;
        }
        this.received += 1;
        const next = this.after(cursor, page);
        pending = next && Date.now() < this.deadlineMs ? this.request(next) : null;
        this.resumeAt = next;
        yield page;
        cursor = next;
      }
    } finally {
      pending?.catch(() => {}); // a prefetch the caller abandoned (its staging failed) must not go unhandled
    }
  }

  private firstUrl(): string {
    const w = this.window;
    return this.citrix.firstPageUrl({
      entity: w.entity,
      timeField: w.timeField,
      fromMs: w.fromMs,
      toMs: w.toMs,
    });
  }

  private request(cursor: Cursor): Promise<Page> {
    const w = this.window;
    const url =
      'nextLink' in cursor
        ? cursor.nextLink
        : this.citrix.keyPageUrl({
            entity: w.entity,
            timeField: w.timeField,
            keyField: w.keyField ?? '',
            fromMs: w.fromMs,
            toMs: w.toMs,
            after: cursor.after,
            top: w.pageSize,
          });
    const pending = this.citrix.fetchPage(url, this.about(this.pagesBefore + this.received), this.deadlineMs);
    pending.catch(() => {}); // awaited by the iterator; this only keeps it from being "unhandled" meanwhile
    return pending;
  }

  /**
   * The cursor after `page`, or null when it was the last. By key, a nextLink or a full page says more
   * rows may follow (a server whose cap is under `$top` sends a short page with a nextLink); the next
   * request starts after the page's last key, whatever the link says.
   */
  private after(cursor: Cursor, page: Page): Cursor | null {
    if ('nextLink' in cursor) return page.nextLink === null ? null : { nextLink: page.nextLink };
    const more = page.nextLink !== null || page.rows.length >= this.window.pageSize;
    if (!more || page.rows.length === 0) return null;
    const first = this.keyOf(page.rows[0]);
    if (cursor.after !== null && first === cursor.after) {
      throw new CitrixBadQuery(
        `${this.about(this.pagesBefore + this.received - 1).what}: Citrix returned the row with ${this.window.keyField} ${JSON.stringify(first)} again after it: the server did not apply the key filter. Page this entity by nextLink (NEXTLINK_PAGING=${this.window.entity}) and read what that risks in docs/design.md, "Paging by key, and why".`,
      );
    }
    return { after: this.keyOf(page.rows[page.rows.length - 1]) };
  }

  private keyOf(row: unknown): KeyValue {
    const field = this.window.keyField ?? '';
    const key: unknown = typeof row === 'object' && row !== null ? Reflect.get(row, field) : undefined;
    if ((typeof key === 'number' && Number.isSafeInteger(key)) || (typeof key === 'string' && key !== '')) {
      return key;
    }
    throw new BadConfiguration(
      `Rows of ${this.window.entity} have no usable key in ${field} (found ${JSON.stringify(key ?? null)}): set KEY_FIELDS to the entity's OData key (e.g. "${this.window.entity}:Id"), or page it by nextLink with NEXTLINK_PAGING=${this.window.entity}.`,
    );
  }
}
