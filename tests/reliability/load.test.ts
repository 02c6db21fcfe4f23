/**
 * Many scanners at once: every finding stored exactly once; a replay changes no count, advances
 * LastSeen and keeps FirstSeen; concurrent upserts of one finding converge to one item. Sizes:
 * RELIABILITY_SCANNERS (default 16), RELIABILITY_FINDINGS per scanner (default 100; the issue's
 * full run is 1000) and RELIABILITY_BATCH (default 100). No assertion depends on how fast it runs.
 */
import type { Issued } from '../../local/pki';
import { storedFindings } from '../support/attack';
import { startTestStack, type TestStack } from '../support/local-stack';
import { batchesOf, mapConcurrently, postWithRetry, sizeFromEnv } from '../support/reliability';

const SCANNERS = sizeFromEnv('RELIABILITY_SCANNERS', 16);
const FINDINGS = sizeFromEnv('RELIABILITY_FINDINGS', 100);
const BATCH = Math.min(100, sizeFromEnv('RELIABILITY_BATCH', 100));
const ORGS = ['load-a', 'load-b', 'load-c', 'load-d'];

jest.setTimeout(600_000);

let stack: TestStack;
let scanners: Issued[];

beforeAll(async () => {
  stack = await startTestStack();
  scanners = await Promise.all(
    Array.from({ length: SCANNERS }, (_, index) =>
      stack.ca.issue({ subject: `CN=load-scanner-${index}, OU=scanner, O=Example Corp`, kind: 'client' }),
    ),
  );
});

afterAll(async () => {
  await stack?.close();
});

const orgOf = (scanner: number) => ORGS[scanner % ORGS.length] as string;

/** Every scanner posts all its batches, one after another; the scanners run side by side. */
function postEverything() {
  return Promise.all(
    scanners.map((identity, scanner) =>
      mapConcurrently(batchesOf(`scanner-${scanner}`, orgOf(scanner), FINDINGS, BATCH), 1, (batch) =>
        postWithRetry(stack, identity, batch),
      ),
    ),
  );
}

async function snapshot(): Promise<Map<string, Record<string, unknown>>> {
  const items = (await Promise.all(ORGS.map((org) => storedFindings(stack, org)))).flat();
  return new Map(items.map((item) => [`${String(item.Org)}/${String(item.VulnID)}`, item]));
}

test(`${SCANNERS} scanners x ${FINDINGS} findings in batches of ${BATCH}: each stored exactly once, then a replay changes no count`, async () => {
  const first = await postEverything();
  for (const outcome of first.flat()) expect(outcome.final.status).toBe(200);
  const created = first
    .flat()
    .reduce((sum, outcome) => sum + Number((outcome.final.json() as { created: number }).created), 0);
  expect(created).toBe(SCANNERS * FINDINGS);
  const before = await snapshot();
  expect(before.size).toBe(SCANNERS * FINDINGS);

  const replay = await postEverything();
  for (const outcome of replay.flat()) {
    expect(outcome.final.status).toBe(200);
    expect(outcome.final.json()).toMatchObject({ created: 0 });
  }
  const after = await snapshot();
  expect(after.size).toBe(before.size);
  for (const [key, item] of after) {
    const earlier = before.get(key) as Record<string, unknown>;
    expect(item.FirstSeen).toBe(earlier.FirstSeen);
    expect(String(item.LastSeen) > String(earlier.LastSeen)).toBe(true);
  }
});

test('concurrent upserts of one finding converge to one item, created exactly once', async () => {
  const finding = { ...batchesOf('contended', 'load-a', 1, 1)[0]?.[0] } as Record<string, unknown>;
  const rounds = await Promise.all(
    scanners.map((identity, scanner) =>
      stack.request(identity, {
        path: '/vuln',
        body: { ...finding, PluginName: `version ${scanner}` },
        timeoutMs: 60_000,
      }),
    ),
  );
  expect(rounds.map((answer) => answer.status)).toEqual(scanners.map(() => 200));
  const bodies = rounds.map(
    (answer) => answer.json() as { created: number; updated: number; unchanged: number; stale: number },
  );
  expect(bodies.reduce((sum, body) => sum + body.created, 0)).toBe(1);
  // Without a run each report's time is its request's: a report older than one already stored is stale
  // (docs/finding-lifecycle.md), so the others are updates or stale, each counted exactly once.
  expect(bodies.reduce((sum, body) => sum + body.updated + body.unchanged + body.stale, 0)).toBe(SCANNERS - 1);

  const items = (await storedFindings(stack, 'load-a')).filter((item) => item.VulnID === finding.VulnID);
  expect(items).toHaveLength(1);
  expect(scanners.map((_, scanner) => `version ${scanner}`)).toContain(items[0]?.PluginName);
  // Whatever order they landed in, the next write decides.
  expect(
    (await stack.request(scanners[0] as Issued, { path: '/vuln', body: { ...finding, PluginName: 'final' } })).status,
  ).toBe(200);
  expect(
    (await storedFindings(stack, 'load-a'))
      .filter((item) => item.VulnID === finding.VulnID)
      .map((item) => item.PluginName),
  ).toEqual(['final']);
});
