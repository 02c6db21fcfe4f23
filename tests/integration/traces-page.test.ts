/**
 * The trace page in a real headless browser (Debian's Chromium driven by puppeteer-core): the recent
 * requests of a real POST and GET, the waterfall of one trace with every hop, errors in red, annotation
 * filters, and no script from trace data ever running. A screenshot is taken and checked for content;
 * TRACES_SCREENSHOT=docs/traces-page.png saves it for the README.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PNG } from 'pngjs';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { REFERENCE_FINDING } from '../../local/seed';
import { udpSegmentSink } from '../../local/xray/segment';
import { newSegmentId, newTraceId } from '../../local/xray/trace-header';
import { startTraceViewer, type TraceViewer } from '../../local/xray/viewer';
import { PROJECT_ROOT } from '../../local/cloudformation/template';
import { startTestStack, type TestStack } from '../support/local-stack';
import { completeTrace, rootOf } from '../support/traces';

jest.setTimeout(90_000);

// The callbacks given to page.evaluate and friends run in the page, where these exist.
declare const document: {
  querySelectorAll(selector: string): { length: number };
  querySelector(selector: string): unknown;
  getElementById(id: string): { hidden?: boolean; textContent: string | null } | null;
};
declare const window: { __xss?: number };
declare function getComputedStyle(element: unknown): { color: string };

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const HOSTILE = {
  name: '<img src=x onerror="window.__xss=1">',
  org: '<script>window.__xss=2</script>',
  principalOu: '"><svg onload="window.__xss=3">',
};

let stack: TestStack;
let viewer: TraceViewer;
let browser: Browser;
let page: Page;
let profile: string;
const traces: { post?: string; get?: string; denied?: string; hostile?: string } = {};

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `Chromium is not installed at ${CHROMIUM}: run \`apt-get update && apt-get install -y chromium\` (as root), or set CHROMIUM_PATH`,
    );
  }
  profile = await mkdtemp(join(tmpdir(), 'traces-chromium-'));
  stack = await startTestStack({ traces: {} });
  const tracing = stack.stack.backend.tracing;
  if (!tracing) throw new Error('tracing is off');

  const post = await stack.request(stack.pki.scanner, { method: 'POST', path: '/vuln', body: REFERENCE_FINDING });
  const get = await stack.request(stack.pki.dashboard, { path: '/vuln?org=org1' });
  const denied = await stack.request(stack.pki.dashboard, { path: '/vuln?org=org5' });
  expect([post.status, get.status, denied.status]).toEqual([200, 200, 403]);
  traces.post = rootOf(post.headers['x-amzn-trace-id']);
  traces.get = rootOf(get.headers['x-amzn-trace-id']);
  traces.denied = rootOf(denied.headers['x-amzn-trace-id']);
  await completeTrace(tracing.store, traces.post, 10);
  await completeTrace(tracing.store, traces.denied, 3);

  viewer = await startTraceViewer(tracing.store, { port: 0 });
  browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    userDataDir: profile,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  page = await browser.newPage();
  await page.setViewport({ width: 1280, height: 900 });
});

afterAll(async () => {
  await browser?.close();
  await viewer?.close();
  await stack?.close();
  if (profile) await rm(profile, { recursive: true, force: true });
});

/** Trace data is attacker-influenced: a segment whose name and annotations are markup, sent through the daemon. */
async function sendHostileTrace(): Promise<string> {
  const tracing = stack.stack.backend.tracing;
  if (!tracing) throw new Error('tracing is off');
  const traceId = newTraceId();
  const sink = udpSegmentSink({ host: tracing.daemon.host, port: tracing.daemon.port });
  const now = Date.now() / 1000;
  sink.send({
    name: HOSTILE.name,
    id: newSegmentId(),
    trace_id: traceId,
    start_time: now,
    end_time: now + 0.02,
    origin: 'AWS::ApiGateway::Stage',
    annotations: { org: HOSTILE.org, principalOu: HOSTILE.principalOu },
    http: { request: { method: 'GET', url: 'https://localhost/<b>x</b>' }, response: { status: 500 } },
    fault: true,
  });
  await completeTrace(tracing.store, traceId);
  sink.close();
  return traceId;
}

const rowCount = () => page.$$eval('#requests tbody tr', (rows) => rows.length);
const xss = () => page.evaluate(() => window.__xss);

test('lists the recent requests with time, method, status and latency', async () => {
  await page.goto(viewer.url);
  await page.waitForFunction(() => document.querySelectorAll('#requests tbody tr').length >= 3, { timeout: 10_000 });
  const rows = await page.$$eval('#requests tbody tr', (trs) =>
    trs.map((tr) => ({
      id: tr.getAttribute('data-trace-id'),
      cells: [...tr.querySelectorAll('td')].map((td) => td.textContent),
    })),
  );
  const post = rows.find((row) => row.id === traces.post);
  expect(post?.cells.slice(1, 4)).toEqual(['POST', '/vuln', '200']);
  expect(post?.cells[4]).toMatch(/^\d+ ms$/);
  expect(rows.find((row) => row.id === traces.denied)?.cells[3]).toBe('403');
});

test('draws the waterfall of a POST, every hop with a bar and a duration, and the screenshot shows it', async () => {
  // The list reloads every 5 s (traces.js): a locator finds the row again if it was replaced mid-click.
  await page.locator(`tr[data-trace-id="${traces.post}"]`).click();
  await page.waitForFunction(
    (id) => document.getElementById('trace-title')?.textContent?.includes(id),
    {},
    traces.post ?? '',
  );
  const rows = await page.$$eval('#waterfall .segment', (segments) =>
    segments.map((segment) => ({
      name: segment.querySelector('.name span')?.textContent,
      width: segment.querySelector('.bar')?.getBoundingClientRect().width ?? 0,
      duration: segment.querySelector('.duration')?.textContent,
    })),
  );
  expect(rows.map((row) => row.name)).toEqual(
    expect.arrayContaining([
      'local-vulnerability-api/v1',
      'STEPFUNCTIONS',
      'IngestStateMachine',
      'Validate findings',
      'Normalize findings',
      'Check authorization',
      'Write findings',
      'WriteFunction',
    ]),
  );
  expect(rows.every((row) => row.width >= 1 && /ms/.test(row.duration ?? ''))).toBe(true);

  const screenshot = Buffer.from(await page.screenshot({ fullPage: true, type: 'png' }));
  const image = PNG.sync.read(screenshot);
  let barPixels = 0;
  let inked = 0;
  for (let offset = 0; offset < image.data.length; offset += 4) {
    const [red, green, blue] = [image.data[offset] ?? 0, image.data[offset + 1] ?? 0, image.data[offset + 2] ?? 0];
    if (red < 240 || green < 240 || blue < 240) inked += 1;
    if (red < 20 && Math.abs(green - 115) < 20 && Math.abs(blue - 187) < 20) barPixels += 1;
  }
  // Not blank, and the blue waterfall bars are on it.
  expect(inked / (image.width * image.height)).toBeGreaterThan(0.02);
  expect(barPixels).toBeGreaterThan(500);
  if (process.env.TRACES_SCREENSHOT) await writeFile(resolve(PROJECT_ROOT, process.env.TRACES_SCREENSHOT), screenshot);
});

test('draws an error in red', async () => {
  // The list reloads every 5 s (traces.js): a locator finds the row again if it was replaced mid-click.
  await page.locator(`tr[data-trace-id="${traces.denied}"]`).click();
  await page.waitForFunction(
    (id) => document.getElementById('trace-title')?.textContent?.includes(id),
    {},
    traces.denied ?? '',
  );
  const color = await page.$eval('.segment.error .name', (name) => getComputedStyle(name).color);
  expect(color).toBe('rgb(209, 50, 18)');
});

test('shows trace data as text: no markup from a trace is ever parsed or run', async () => {
  traces.hostile = await sendHostileTrace();
  await page.reload();
  await page.waitForFunction((id) => Boolean(document.querySelector(`tr[data-trace-id="${id}"]`)), {}, traces.hostile);
  const hostile = await page.$$eval(
    '#requests tbody tr',
    (trs, id) => trs.find((tr) => tr.getAttribute('data-trace-id') === id)?.textContent ?? '',
    traces.hostile,
  );
  expect(hostile).toContain(HOSTILE.org);
  expect(hostile).toContain(HOSTILE.principalOu);
  // The list reloads every 5 s (traces.js): a locator finds the row again if it was replaced mid-click.
  await page.locator(`tr[data-trace-id="${traces.hostile}"]`).click();
  await page.waitForFunction(
    (id) => document.getElementById('trace-title')?.textContent?.includes(id),
    {},
    traces.hostile,
  );
  expect(await page.$eval('#waterfall .segment .name span', (span) => span.textContent)).toBe(HOSTILE.name);
  expect(await page.$$eval('main img, main script, main svg, main b', (nodes) => nodes.length)).toBe(0);
  expect(await xss()).toBeUndefined();
});

test('filters by annotation, showing the X-Ray filter expression that finds the same traces on AWS', async () => {
  await page.type('input[name="org"]', HOSTILE.org);
  await page.click('button[type="submit"]');
  await page.waitForFunction(() => document.querySelectorAll('#requests tbody tr').length === 1);
  expect(await page.$eval('#filter-expression', (code) => code.textContent)).toBe(
    `annotation.org = ${JSON.stringify(HOSTILE.org)}`,
  );
  await page.click('button[type="reset"]');
  await page.waitForFunction(() => document.querySelectorAll('#requests tbody tr').length >= 4);
  expect(await rowCount()).toBeGreaterThanOrEqual(4);
  expect(await xss()).toBeUndefined();
});
