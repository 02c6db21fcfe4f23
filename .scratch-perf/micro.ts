import { startDynamoDb, createTablesFromTemplate, localDynamoDbClient } from '../local/dynamodb/server';
import { benchFinding, rawUpsert } from '../bench/workload';
import { normalizeFinding } from '../functions/shared/core/normalize';
import { execSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
let dbPid = 0;
const dbCpu = () => { const f = readFileSync(`/proc/${dbPid}/stat`, 'utf8').split(') ')[1]!.split(' '); return (Number(f[11]) + Number(f[12])) * 10; };

async function main() {
  const db = await startDynamoDb({ port: 0, ...(process.env.PROF ? { cpuProfileDir: process.env.PROF } : {}) });
  const endpoint = (db as any).endpoint ?? `http://127.0.0.1:${(db as any).port}`;
  process.env.AWS_ENDPOINT_URL_DYNAMODB = endpoint;
  process.env.AWS_REGION = 'us-east-1';
  process.env.AWS_ACCESS_KEY_ID = 'local'; process.env.AWS_SECRET_ACCESS_KEY = 'local';
  const tables = await createTablesFromTemplate(endpoint);
  const table = tables.FindingsTable;
  dbPid = execSync('pgrep -f dynalite-process.ts').toString().trim().split('\n').map(Number).find((pid) => { try { readFileSync(`/proc/${pid}/stat`); return true; } catch { return false; } })!;
  const raw = localDynamoDbClient(endpoint);
  const { writeFindings } = await import('../functions/shared/adapters/findings-repository');
  const N = Number(process.argv[2] ?? 2000);
  const mode = process.argv[3] ?? 'both';
  for (let round = 0; round < 2; round++) {
    if (mode !== 'repo') {
      const fs = Array.from({ length: N }, (_, i) => benchFinding(`r${round}-${i}`));
      const t0 = process.cpuUsage(); const w0 = Date.now(); const d0 = dbCpu();
      for (let i = 0; i < N; i += 10) await Promise.all(fs.slice(i, i + 10).map((f) => rawUpsert(raw, table, f)));
      const c = process.cpuUsage(t0);
      console.log(`raw  round ${round}: ${((c.user + c.system) / 1000 / N).toFixed(3)} ms cpu/finding, ${((Date.now() - w0) / N).toFixed(3)} ms wall/finding, db ${((dbCpu() - d0) / N).toFixed(3)} ms cpu/finding`);
    }
    if (mode !== 'raw') {
      const fs = Array.from({ length: N }, (_, i) => ({ ...normalizeFinding(benchFinding(`w${round}-${i}`)), Scanner: 'x' })) as any;
      const t0 = process.cpuUsage(); const w0 = Date.now(); const d0 = dbCpu();
      for (let i = 0; i < N; i += 100) await writeFindings(table, fs.slice(i, i + 100), { scannedAt: new Date().toISOString(), runId: undefined as any });
      const c = process.cpuUsage(t0);
      console.log(`repo round ${round}: ${((c.user + c.system) / 1000 / N).toFixed(3)} ms cpu/finding, ${((Date.now() - w0) / N).toFixed(3)} ms wall/finding, db ${((dbCpu() - d0) / N).toFixed(3)} ms cpu/finding`);
    }
  }
  await db.close();
}
main().catch((e) => { console.error(e); process.exit(1); });
