import { encodePage } from './ndjson.ts';

/** Pages are staged in groups of about this many bytes: fewer, larger objects cost far less to write and publish. */
export const STAGE_BYTES = 4 * 1024 * 1024;

/** Lets a request that was just started go out on the socket before CPU-bound work holds the event loop. */
const letRequestGo = () => new Promise<void>((resolve) => setImmediate(() => setImmediate(resolve)));

/** What the writer tells once an object is written. */
export interface Staged {
  /** Index of the staged object. */
  readonly object: number;
  /** Citrix pages in it. */
  readonly pages: number;
  /** Number of the last Citrix page in it (pages count from 0 for the entity-hour). */
  readonly page: number;
  readonly rows: number;
}

/**
 * Groups Citrix pages into staged objects of about {@link STAGE_BYTES} and writes each while the next
 * pages are fetched: one write pending at a time, so memory holds at most two groups and a page whatever
 * the size of the hour. Objects are numbered from `firstObject`: a retried or continued invocation writes
 * the same keys again, and the commit publishes only the objects its result counts.
 */
export class StagingWriter {
  private group: (readonly unknown[])[] = [];
  private groupBytes = 0;
  private lastPage = -1;
  private pending: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly write: (object: number, body: Buffer) => Promise<unknown>,
    private readonly compression: 'none' | 'gzip',
    private readonly onStaged: (staged: Staged) => void,
    /** Objects staged so far, by this invocation and the ones before it. */
    public objects = 0,
  ) {}

  /** Adds the rows of Citrix page number `page`; writes the group once it is large enough. */
  async add(rows: readonly unknown[], bytes: number, page: number): Promise<void> {
    if (rows.length === 0) return;
    this.lastPage = page;
    this.group.push(rows);
    this.groupBytes += bytes;
    if (this.groupBytes >= STAGE_BYTES) await this.flush();
  }

  /** Writes what is left and waits for every write: after this, the objects counted are all in S3. */
  async finish(): Promise<void> {
    if (this.group.length > 0) await this.flush();
    await this.settle();
  }

  private async flush(): Promise<void> {
    await this.settle();
    const pages = this.group;
    const object = this.objects;
    const page = this.lastPage;
    this.group = [];
    this.groupBytes = 0;
    this.objects += 1;
    await letRequestGo();
    const rows = pages.flat();
    this.pending = encodePage(rows, this.compression)
      .then((body) => this.write(object, body))
      .then(
        () => this.onStaged({ object, pages: pages.length, page, rows: rows.length }),
        (err: unknown) => err,
      );
  }

  /** Waits for the pending write; its failure is thrown here, in the caller's flow. */
  private async settle(): Promise<void> {
    const failure = await this.pending;
    this.pending = Promise.resolve();
    if (failure instanceof Error) throw failure;
  }
}
