/**
 * What lets a reader that must see a whole export before it emits (it merges a finding reported twice,
 * or needs a glossary or an asset written after the detections) keep its memory bounded: the records
 * go to a temporary file as they are read and are read back in order, so memory holds keys, not
 * records.
 *
 * The file is created on the first write, mode 0600, in a fresh directory (mkdtemp: mode 0700) under
 * the system's temporary directory, and removed with its directory by `close()`, which every reader
 * calls when it ends, fails or is abandoned. Records are written with the V8 serializer (the structured
 * clone: `undefined`, Dates, Maps and key order come back exactly), each behind its length, through a
 * 1 MB buffer.
 */
import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deserialize, serialize } from 'node:v8';
import type { Finding } from '../../functions/shared/core/finding-schema';
import { mergeFindings, SHARED_TEXT_FIELDS } from './mapping';

const BUFFER_BYTES = 1024 * 1024;
const LENGTH_BYTES = 4;

/** Records written to a temporary file and read back in the order written, as often as needed. */
export class Spool<T> {
  private file: { dir: string; fd: number } | undefined;
  private readonly buffer = Buffer.allocUnsafe(BUFFER_BYTES);
  private used = 0;
  private written = 0;
  private closed = false;

  /** Records written so far. */
  count = 0;

  private open(): number {
    if (this.closed) throw new Error('the spool is closed');
    if (this.file === undefined) {
      const dir = mkdtempSync(join(tmpdir(), 'vuln-import-'));
      this.file = { dir, fd: openSync(join(dir, 'records'), 'wx+', 0o600) };
    }
    return this.file.fd;
  }

  private flush(): void {
    if (this.used === 0) return;
    const fd = this.open();
    let done = 0;
    while (done < this.used) done += writeSync(fd, this.buffer, done, this.used - done, this.written + done);
    this.written += this.used;
    this.used = 0;
  }

  write(record: T): void {
    if (this.closed) throw new Error('the spool is closed');
    const body = serialize(record);
    if (this.used + LENGTH_BYTES + body.length > BUFFER_BYTES) this.flush();
    if (LENGTH_BYTES + body.length > BUFFER_BYTES) {
      const fd = this.open();
      const whole = Buffer.allocUnsafe(LENGTH_BYTES + body.length);
      whole.writeUInt32LE(body.length, 0);
      body.copy(whole, LENGTH_BYTES);
      let done = 0;
      while (done < whole.length) done += writeSync(fd, whole, done, whole.length - done, this.written + done);
      this.written += whole.length;
    } else {
      this.buffer.writeUInt32LE(body.length, this.used);
      body.copy(this.buffer, this.used + LENGTH_BYTES);
      this.used += LENGTH_BYTES + body.length;
    }
    this.count += 1;
  }

  /** The records written so far, in order (a read may be repeated; writing during one is not allowed). */
  *read(): Generator<T> {
    this.flush();
    if (this.file === undefined) return;
    const { fd } = this.file;
    const chunk = Buffer.allocUnsafe(BUFFER_BYTES);
    let pending = Buffer.alloc(0);
    let position = 0;
    while (position < this.written || pending.length > 0) {
      let offset = 0;
      while (pending.length - offset >= LENGTH_BYTES) {
        const length = pending.readUInt32LE(offset);
        if (pending.length - offset - LENGTH_BYTES < length) break;
        const start = offset + LENGTH_BYTES;
        yield deserialize(pending.subarray(start, start + length)) as T;
        offset = start + length;
      }
      pending = pending.subarray(offset);
      if (position >= this.written) {
        if (pending.length > 0) throw new Error('the spool file ends inside a record');
        break;
      }
      const bytesRead = readSync(fd, chunk, 0, Math.min(BUFFER_BYTES, this.written - position), position);
      if (bytesRead === 0) throw new Error('the spool file is shorter than was written');
      position += bytesRead;
      pending =
        pending.length === 0
          ? Buffer.from(chunk.subarray(0, bytesRead))
          : Buffer.concat([pending, chunk.subarray(0, bytesRead)]);
    }
  }

  /** Removes the file and its directory; the spool cannot be used afterwards. */
  close(): void {
    this.closed = true;
    const file = this.file;
    this.file = undefined;
    if (file === undefined) return;
    try {
      closeSync(file.fd);
    } finally {
      rmSync(file.dir, { recursive: true, force: true });
    }
  }
}

type SharedTextField = (typeof SHARED_TEXT_FIELDS)[number];
/** A finding as spooled: each rule text (the same on every host) replaced by its index in the merger's texts. */
type SpooledFinding = Omit<Partial<Finding>, SharedTextField> & Partial<Record<SharedTextField, string | number>>;

/**
 * Merges findings by VulnID, in first-seen order, as FindingMerger (mapping.ts) does, for a whole
 * export: the findings are spooled (their rule texts held once, in memory), memory holds each VulnID
 * and how often it was seen, and the findings reported more than once while they are merged. `drain()`
 * reads the spool back (twice when a finding was repeated: once to merge the repeats, once to emit)
 * and yields exactly what FindingMerger yields. `close()` removes the file.
 */
export class SpooledFindingMerger {
  private readonly spool = new Spool<SpooledFinding>();
  private readonly seen = new Map<string, number>();
  private readonly textIndex = new Map<string, number>();
  private readonly texts: string[] = [];

  private indexOf(text: string): number {
    let index = this.textIndex.get(text);
    if (index === undefined) {
      index = this.texts.length;
      this.texts.push(text);
      this.textIndex.set(text, index);
    }
    return index;
  }

  add(finding: Partial<Finding>): void {
    const spooled: SpooledFinding = { ...finding };
    for (const field of SHARED_TEXT_FIELDS) {
      const value = finding[field];
      if (value !== undefined) spooled[field] = this.indexOf(value);
    }
    this.spool.write(spooled);
    const id = finding.VulnID as string;
    this.seen.set(id, (this.seen.get(id) ?? 0) + 1);
  }

  get size(): number {
    return this.seen.size;
  }

  private restore(spooled: SpooledFinding): Partial<Finding> {
    const finding = spooled as Partial<Finding>;
    for (const field of SHARED_TEXT_FIELDS) {
      const value = spooled[field];
      if (typeof value === 'number') finding[field] = this.texts[value];
    }
    return finding;
  }

  /** The merged findings, in the order their VulnID was first seen; the merger is closed afterwards. */
  *drain(): Generator<Partial<Finding>> {
    try {
      const merged = new Map<string, Partial<Finding> | undefined>();
      for (const [id, times] of this.seen) if (times > 1) merged.set(id, undefined);
      this.seen.clear();
      this.textIndex.clear();
      if (merged.size > 0)
        for (const spooled of this.spool.read()) {
          const id = spooled.VulnID as string;
          if (!merged.has(id)) continue;
          const finding = this.restore(spooled);
          const before = merged.get(id);
          merged.set(id, before === undefined ? finding : mergeFindings(before, finding));
        }
      const emitted = new Set<string>();
      for (const spooled of this.spool.read()) {
        const id = spooled.VulnID as string;
        if (emitted.has(id)) continue;
        const finding = merged.get(id);
        if (finding === undefined) {
          yield this.restore(spooled);
          continue;
        }
        merged.delete(id);
        emitted.add(id);
        yield finding;
      }
    } finally {
      this.close();
    }
  }

  close(): void {
    this.spool.close();
  }
}
