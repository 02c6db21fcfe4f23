/**
 * `npm run bench:import`: reads a generated 100 MB Nessus export (600 hosts × 100 items) through the
 * push pipeline up to the request bodies (parse, map, validate, batch; no network) and checks that
 * memory stays bounded: peak resident memory under a stated target, far below 10× the file.
 * Exit code 1 when a target is missed. Timing and memory live here, never in tests.
 */
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { MAX_FINDINGS_PER_REQUEST } from '../functions/shared/core/limits';
import { batchesOf } from '../client/push/batches';
import { validFindings } from '../client/push/push';
import { DEFAULT_DUE_DAYS } from '../client/scan/mapping';
import { writeSyntheticNessus } from '../client/scan/synthetic-nessus';
import { runMain } from './checks';

const SHAPE = { hosts: 600, itemsPerHost: 100, descriptionChars: 1200 };
/** Resident memory of the whole process (runtime included) while reading the 100 MB file. */
const TARGETS = { peakRssMb: 400, secondsPer100Mb: 60 };

async function main(): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-import-'));
  try {
    const path = join(dir, 'synthetic.nessus');
    const items = await writeSyntheticNessus(path, SHAPE);
    const fileMb = (await stat(path)).size / 1024 / 1024;
    global.gc?.();
    let peak = process.memoryUsage().rss;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 20);
    const started = performance.now();
    let findings = 0;
    let batches = 0;
    const mapping = { org: 'bench', scanner: 'nessus', dueDays: DEFAULT_DUE_DAYS, now: new Date() };
    for await (const batch of batchesOf(validFindings([path], mapping), {
      maxFindings: MAX_FINDINGS_PER_REQUEST,
      maxBytes: 65_536,
    })) {
      findings += batch.findings.length;
      batches += 1;
    }
    const seconds = (performance.now() - started) / 1000;
    clearInterval(sampler);
    peak = Math.max(peak, process.memoryUsage().rss);
    if (findings !== items) throw new Error(`read ${findings} findings of ${items} items`);
    const peakMb = peak / 1024 / 1024;
    const rows = [
      { name: `peak RSS reading ${fileMb.toFixed(0)} MB (MB)`, value: peakMb, target: TARGETS.peakRssMb },
      { name: 'seconds per 100 MB', value: (seconds * 100) / fileMb, target: TARGETS.secondsPer100Mb },
    ];
    let missed = 0;
    for (const row of rows) {
      const ok = row.value <= row.target;
      if (!ok) missed += 1;
      console.log(
        `${ok ? 'PASS' : 'FAIL'}  ${row.name.padEnd(36)} ${row.value.toFixed(1).padStart(8)}  (target ≤ ${row.target})`,
      );
    }
    console.log(
      `${items} items → ${findings} findings in ${batches} batches of ≤ 64 KB; peak RSS ${(peakMb / fileMb).toFixed(2)}× the file`,
    );
    return missed > 0 ? 1 : 0;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

runMain(main);
