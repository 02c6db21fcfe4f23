import { readScanFile, detectFormat } from './client/scan/read-scan';
import { newParseStats } from './client/scan/records';
import { DEFAULT_DUE_DAYS } from './client/scan/mapping';
async function main() {
  for (const f of process.argv.slice(2)) {
    const fmt = await detectFormat(f);
    const stats = newParseStats();
    const opts = { org: 'org1', scanner: fmt.scanner || 'json', dueDays: DEFAULT_DUE_DAYS, now: new Date('2026-01-15T12:00:00Z') };
    let ok = 0; const bad: string[] = []; const assets = new Set(); let first;
    for await (const r of readScanFile(f, opts, stats)) { if (r.ok) { ok++; assets.add(r.finding.AssetName); first ??= r.finding; } else bad.push(r.reason); }
    console.log(f, fmt.name, 'items', stats.items, 'ok', ok, 'bad', bad.length, bad.slice(0,3), 'assets', [...assets], 'skipped', stats.skipped.slice(0,3), stats.skipped.length, stats.ignored, stats.scanStart);
    console.log(JSON.stringify(first).slice(0, 1500));
  }
}
main().catch((e) => { console.error('ERR', e.name, e.kind, e.message); });
