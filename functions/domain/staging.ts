import { compress, ndjsonLines } from '../lib/ndjson.ts';

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
  /** Number of the last Citrix page in it (pages count from 0 for the entity-window). */
  readonly page: number;
  readonly rows: number;
}

/** Where a {@link StagingWriter} writes, in what form, and who hears of each object. */
export interface StagingOptions {
  /** Writes staged object number `object`. */
  readonly write: (object: number, body: Buffer) => Promise<unknown>;
  readonly compression: 'none' | 'gzip';
  /** Told once each object is written. */
  readonly onStaged: (staged: Staged) => void;
  /** The index of the first object: those staged by earlier invocations of the entity-window. */
  readonly firstObject?: number;
}

/**
 * Groups Citrix pages into staged objects of about {@link STAGE_BYTES} of NDJSON and writes each while
 * the next pages are fetched: one write pending at a time, so memory holds at most two groups and a page
 * whatever the size of the window. Each page is encoded when it arrives, while the request for the next one
 * is out: the CPU work is spread evenly instead of landing, a group at a time, on a page that is waiting
 * to be read. Objects are numbered from the index it starts at: a retried or continued invocation writes
 * the same keys again, and the commit publishes only the objects its result counts.
 */
export class StagingWriter {
  /** Objects staged so far, by this invocation and the ones before it: the next object's index. */
  objects: number;
  private readonly write: (object: number, body: Buffer) => Promise<unknown>;
  private readonly compression: 'none' | 'gzip';
  private readonly onStaged: (staged: Staged) => void;
  private chunks: Buffer[] = [];
  private groupBytes = 0;
  private groupRows = 0;
  private lastPage = -1;
  private pending: Promise<unknown> = Promise.resolve();

  constructor({ write, compression, onStaged, firstObject = 0 }: StagingOptions) {
    this.write = write;
    this.compression = compression;
    this.onStaged = onStaged;
    this.objects = firstObject;
  }

  /** Adds the rows of Citrix page number `page`; writes the group once it is large enough. */
  async add(rows: readonly unknown[], page: number): Promise<void> {
    if (rows.length === 0) return;
    await letRequestGo(); // the pager has just sent the next page's request
    const lines = ndjsonLines(rows);
    this.chunks.push(lines);
    this.groupBytes += lines.length;
    this.groupRows += rows.length;
    this.lastPage = page;
    if (this.groupBytes >= STAGE_BYTES) await this.flush();
  }

  /** Writes what is left and waits for every write: after this, the objects counted are all in S3. */
  async finish(): Promise<void> {
    if (this.chunks.length > 0) await this.flush();
    await this.settle();
  }

  private async flush(): Promise<void> {
    await this.settle();
    const staged = {
      object: this.objects,
      pages: this.chunks.length,
      page: this.lastPage,
      rows: this.groupRows,
    };
    const body = Buffer.concat(this.chunks, this.groupBytes);
    this.chunks = [];
    this.groupBytes = 0;
    this.groupRows = 0;
    this.objects += 1;
    this.pending = compress(body, this.compression)
      .then((bytes) => this.write(staged.object, bytes))
      .then(
        () => this.onStaged(staged),
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
