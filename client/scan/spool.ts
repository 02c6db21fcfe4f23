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
import type { ParseStats, ScanRecord } from './records';

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

/**
 * A 52-bit hash of a string (two 32-bit FNV-1a variants over its UTF-16 code units), never 0: a key
 * the merger keeps in 8 bytes however long the VulnID. Two VulnIDs may share one; the merger stays exact.
 */
export function keyHash(text: string): number {
  let first = 0x811c9dc5;
  let second = 0x01000193;
  for (let index = 0; index < text.length; index += 1) {
    const unit = text.charCodeAt(index);
    first = Math.imul(first ^ unit, 0x01000193);
    second = Math.imul(second ^ unit, 0x5bd1e995) ^ (second >>> 15);
  }
  return (first >>> 0) * 0x100000 + ((second >>> 0) & 0xfffff) + 1;
}

/** How often each hash was added (0, 1 or "2 or more"), in an open-addressing table: 9 bytes a hash. */
class HashCounts {
  private hashes = new Float64Array(1 << 12);
  private counts = new Uint8Array(1 << 12);
  private used = 0;

  private slotOf(hashes: Float64Array, hash: number): number {
    const mask = hashes.length - 1;
    let slot = (hash % 0x40000000) & mask;
    while (hashes[slot] !== 0 && hashes[slot] !== hash) slot = (slot + 1) & mask;
    return slot;
  }

  add(hash: number): void {
    if ((this.used + 1) * 2 > this.hashes.length) this.grow();
    const slot = this.slotOf(this.hashes, hash);
    if (this.hashes[slot] === 0) {
      this.hashes[slot] = hash;
      this.used += 1;
    }
    this.counts[slot] = Math.min(2, (this.counts[slot] as number) + 1);
  }

  /** Whether the hash was added more than once. */
  repeated(hash: number): boolean {
    return this.counts[this.slotOf(this.hashes, hash)] === 2;
  }

  private grow(): void {
    const { hashes, counts } = this;
    this.hashes = new Float64Array(hashes.length * 2);
    this.counts = new Uint8Array(hashes.length * 2);
    for (let slot = 0; slot < hashes.length; slot += 1) {
      const hash = hashes[slot] as number;
      if (hash === 0) continue;
      const to = this.slotOf(this.hashes, hash);
      this.hashes[to] = hash;
      this.counts[to] = counts[slot] as number;
    }
  }
}

type SharedTextField = (typeof SHARED_TEXT_FIELDS)[number];
/** A finding as spooled: each rule text (the same on every host) replaced by its index in the merger's texts. */
type SpooledFinding = Omit<Partial<Finding>, SharedTextField> & Partial<Record<SharedTextField, string | number>>;

/**
 * Merges findings by VulnID, in first-seen order, as FindingMerger (mapping.ts) does, for a whole
 * export: the findings are spooled (their rule texts held once, in memory) and memory holds a hash of
 * each VulnID and whether it was seen more than once (about 20 bytes a finding). `drain()` reads the
 * spool back: when some hash was seen more than once, a first pass merges the findings with such a
 * hash by their whole VulnID (so two VulnIDs sharing a hash are still two findings); the last pass
 * yields each finding, merged, where its VulnID was first seen: exactly what FindingMerger yields.
 * `close()` removes the file.
 */
export class SpooledFindingMerger {
  private readonly spool = new Spool<SpooledFinding>();
  private readonly counts = new HashCounts();
  private anyRepeated = false;
  private readonly textIndex = new Map<string, number>();
  private readonly texts: string[] = [];

  /** `hashOf` is for the tests, to make VulnIDs share a hash. */
  constructor(private readonly hashOf: (id: string) => number = keyHash) {}

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
    const hash = this.hashOf(finding.VulnID as string);
    this.counts.add(hash);
    if (!this.anyRepeated && this.counts.repeated(hash)) this.anyRepeated = true;
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
      this.textIndex.clear();
      /** The findings whose VulnID's hash was seen more than once, merged by VulnID. */
      const merged = new Map<string, Partial<Finding>>();
      const candidate = (spooled: SpooledFinding) =>
        this.anyRepeated && this.counts.repeated(this.hashOf(spooled.VulnID as string));
      for (const spooled of this.anyRepeated ? this.spool.read() : []) {
        if (!candidate(spooled)) continue;
        const id = spooled.VulnID as string;
        const finding = this.restore(spooled);
        const before = merged.get(id);
        merged.set(id, before === undefined ? finding : mergeFindings(before, finding));
      }
      const emitted = new Set<string>();
      for (const spooled of this.spool.read()) {
        if (!candidate(spooled)) {
          yield this.restore(spooled);
          continue;
        }
        const id = spooled.VulnID as string;
        if (emitted.has(id)) continue;
        emitted.add(id);
        const finding = merged.get(id) as Partial<Finding>;
        merged.delete(id);
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

/**
 * The records of an export whose findings merge over the whole file (its rows repeat a finding): each item read is
 * counted and gives the findings it adds; the merged findings come out, in first-seen order, once all are read.
 */
export async function* mergedRecords<Item>(
  items: AsyncIterable<Item>,
  stats: ParseStats,
  findingsOf: (item: Item) => Iterable<Partial<Finding>>,
  where: (finding: Partial<Finding>) => string,
): AsyncGenerator<ScanRecord> {
  const merger = new SpooledFindingMerger();
  try {
    for await (const item of items) {
      stats.items += 1;
      for (const finding of findingsOf(item)) merger.add(finding);
    }
    for (const finding of merger.drain()) yield { finding, where: where(finding) };
  } finally {
    merger.close();
  }
}
