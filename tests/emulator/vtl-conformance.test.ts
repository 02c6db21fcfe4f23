/**
 * VTL conformance: API Gateway renders mapping templates with Apache Velocity 1.7 on Java, with
 * commons-lang 2.6 `StringEscapeUtils.escapeJavaScript` behind `$util.escapeJavaScript`; the local
 * gateway renders them with velocityjs. Every mapping template of api/openapi.yaml (request templates,
 * integration response templates, gateway responses) is rendered by both over hostile inputs, and the
 * two must give the same JSON, the same status override and the same headers. tests/emulator/vtl/
 * Harness.java is the Java side, run in source-launch mode with Debian's jars.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { PROJECT_ROOT } from '../../local/cloudformation/template';
import { apiResolver, templateContext } from '../support/api';
import { loadApiDefinition } from '../../local/gateway/openapi';
import { inputVariable, renderTemplate, type TemplateContext } from '../../local/gateway/vtl';
import { REFERENCE_FINDING } from '../../local/seed';

const INSTALL = 'apt-get install velocity libcommons-lang-java libjson-smart-java (Debian; Java 17 as well)';
const JAR_DIR = '/usr/share/java';
/** Exact versions where they matter: Velocity 1.7 and commons-lang 2.6 are what API Gateway runs. */
const JARS = [
  'velocity-1.7.jar',
  'commons-lang-2.6.jar',
  'commons-collections3.jar',
  'json-smart.jar',
  'accessors-smart.jar',
  'asm.jar',
];
const HARNESS = resolve(__dirname, 'vtl', 'Harness.java');

function javaAvailable(): string | undefined {
  const java = spawnSync('java', ['-version'], { encoding: 'utf8' });
  if (java.error || java.status !== 0) return 'java is not on PATH';
  const missing = JARS.filter((jar) => !existsSync(join(JAR_DIR, jar)));
  return missing.length === 0 ? undefined : `missing ${missing.map((jar) => join(JAR_DIR, jar)).join(', ')}`;
}

const resolver = apiResolver();

const PEM = readFileSync(join(PROJECT_ROOT, 'events', 'events-ca.pem'), 'utf8');
const HOSTILE = [
  `O'Brien "quoted" \\ back\\\\slash \\'`,
  '</script><script>alert(1)</script> <!-- -->',
  'é ñ 日本語 😀 \u2028\u2029 \ufeff',
  'tab\tnewline\ncr\rnul\u0000bell\u0007del\u007f',
  '$context.requestId #set($x = 1) ${x} $!{y} ## \\u0041 %s',
  PEM,
];

const context = (message = 'Forbidden'): TemplateContext =>
  templateContext(
    { clientCertPem: PEM, subjectDN: `CN=O'Neil \\, "Jr",OU=scanner,O=Example Corp` },
    { error: { message, messageString: JSON.stringify(message), responseType: 'DEFAULT_4XX' } },
  );

/**
 * JSON with everything outside printable ASCII as \uXXXX: the same document, in the one spelling
 * json-smart's strict parser (the Java side's) and JSON.parse both read.
 */
const asciiJson = (value: unknown) =>
  JSON.stringify(value).replace(/[\u007f-\uffff]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);

interface Case {
  label: string;
  template: string;
  body: string;
  context: TemplateContext;
}

function cases(): Case[] {
  const api = loadApiDefinition(resolver);
  const all: Case[] = [];
  const requestBodies = [
    ...HOSTILE.map((text) => ({ ...REFERENCE_FINDING, PluginName: text, AssetName: text })),
    { findings: HOSTILE.map((text, index) => ({ ...REFERENCE_FINDING, VulnID: `v${index}`, Priority: text })) },
    { [HOSTILE[0] as string]: HOSTILE[1], nested: { list: [1, -0.5, 1e21, true, null, HOSTILE[2]] } },
  ];
  const machineOutputs = HOSTILE.map((text) => ({
    statusCode: 400,
    body: asciiJson({ message: 'Invalid request', requestId: 'x', errors: [{ index: 0, path: '', message: text }] }),
  }));
  const serviceAnswers = [
    ...machineOutputs.map((output) => ({ status: 'SUCCEEDED', output: asciiJson(output) })),
    {
      status: 'SUCCEEDED',
      output: JSON.stringify({ statusCode: 503, body: '{"message":"Service temporarily unavailable"}' }),
    },
    { status: 'SUCCEEDED', output: asciiJson({ statusCode: 200, body: asciiJson({ message: HOSTILE[4] }) }) },
    { status: 'TIMED_OUT' },
    { status: 'FAILED', error: HOSTILE[0], cause: HOSTILE[3] },
    ...[
      'ThrottlingException',
      'ValidationException',
      'InvalidExecutionInput',
      'com.amazonaws.swf#ThrottlingException',
      HOSTILE[0],
    ].map((type) => ({ __type: type, message: HOSTILE[1] })),
  ];
  for (const [resourcePath, operations] of api.resources) {
    for (const [method, operation] of operations) {
      if (operation.integration.type !== 'aws') continue;
      for (const [contentType, template] of Object.entries(operation.integration.requestTemplates)) {
        requestBodies.forEach((body, index) =>
          all.push({
            label: `${method} ${resourcePath} request ${contentType} #${index}`,
            template,
            body: asciiJson(body),
            context: context(),
          }),
        );
      }
      for (const response of operation.integration.responses) {
        for (const [contentType, template] of Object.entries(response.responseTemplates)) {
          serviceAnswers.forEach((answer, index) =>
            all.push({
              label: `${method} ${resourcePath} response ${response.pattern} ${contentType} #${index}`,
              template,
              body: asciiJson(answer),
              context: context(),
            }),
          );
        }
      }
    }
  }
  for (const [type, response] of Object.entries(api.gatewayResponses)) {
    for (const [contentType, template] of Object.entries(response.responseTemplates)) {
      HOSTILE.forEach((message, index) =>
        all.push({
          label: `gateway response ${type} ${contentType} #${index}`,
          template,
          body: '',
          context: context(message),
        }),
      );
    }
  }
  return all;
}

interface Rendered {
  output?: string;
  status?: number | null;
  headers?: Record<string, string>;
  error?: string;
}

function renderLocally(item: Case): Rendered {
  try {
    const rendered = renderTemplate(item.template, inputVariable(item.body), item.context);
    return { output: rendered.output, status: rendered.statusOverride ?? null, headers: rendered.headerOverrides };
  } catch (error) {
    return { error: (error as Error).name };
  }
}

function renderWithJava(items: Case[]): Rendered[] {
  const directory = mkdtempSync(join(tmpdir(), 'vtl-conformance-'));
  try {
    const input = join(directory, 'cases.jsonl');
    writeFileSync(
      input,
      items.map(({ template, body, context: ctx }) => asciiJson({ template, body, context: ctx })).join('\n'),
    );
    const classpath = JARS.map((jar) => join(JAR_DIR, jar)).join(':');
    // cwd in the scratch folder: nothing Velocity or the launcher writes lands in the project.
    const run = spawnSync('java', ['-cp', classpath, HARNESS, input], {
      cwd: directory,
      encoding: 'utf8',
      timeout: 120_000,
      maxBuffer: 64 * 1024 * 1024,
    });
    if (run.status !== 0) throw new Error(`Harness.java failed (${run.status ?? run.signal}): ${run.stderr}`);
    return JSON.parse(run.stdout) as Rendered[];
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}

/** The JSON a template produced, with an embedded JSON document (the execution input) parsed too. */
function meaning(output: string): unknown {
  const value = JSON.parse(output) as unknown;
  if (value && typeof value === 'object' && typeof (value as { input?: unknown }).input === 'string') {
    return { ...(value as object), input: JSON.parse((value as { input: string }).input) as unknown };
  }
  return value;
}

const NOT_JSON = Symbol('not JSON');
const jsonOf = (output: string | undefined): unknown => {
  try {
    return meaning(output ?? '');
  } catch {
    return NOT_JSON;
  }
};

const unavailable = javaAvailable();

if (unavailable && process.env.VTL_CONFORMANCE_REQUIRED === '1') {
  // .ci/run installs the jars and sets this: in CI the comparison always runs.
  test('VTL conformance with Apache Velocity 1.7 on Java can run', () => {
    throw new Error(`${unavailable}; install: ${INSTALL}`);
  });
} else if (unavailable) {
  console.warn(`Skipping the VTL conformance test: ${unavailable}. Install: ${INSTALL}`);
  test.skip(`VTL conformance with Apache Velocity 1.7 on Java (${unavailable}; install: ${INSTALL})`, () => undefined);
} else {
  describe('every mapping template of api/openapi.yaml, Apache Velocity 1.7 (Java) against velocityjs', () => {
    const all = cases();
    let java: Rendered[] = [];

    beforeAll(() => {
      java = renderWithJava(all);
    }, 150_000);

    it('covers request, integration response and gateway response templates over every hostile input', () => {
      expect(java).toHaveLength(all.length);
      for (const kind of ['request', 'response', 'gateway response'])
        expect(all.some((item) => item.label.includes(` ${kind} `) || item.label.startsWith(kind))).toBe(true);
    });

    it('renders the same JSON, status and headers with both engines', () => {
      const differences: { label: string; java: Rendered; local: Rendered }[] = [];
      all.forEach((item, index) => {
        const theirs = java[index] as Rendered;
        const ours = renderLocally(item);
        // Same document (key order aside: Java's maps do not keep it), same status, same headers, or the same failure.
        const same =
          theirs.error !== undefined || ours.error !== undefined
            ? theirs.error === ours.error
            : isDeepStrictEqual(
                [jsonOf(theirs.output), theirs.status ?? null, theirs.headers],
                [jsonOf(ours.output), ours.status ?? null, ours.headers],
              );
        if (!same) differences.push({ label: item.label, java: theirs, local: ours });
      });
      expect(differences).toEqual([]);
    });

    it('every template Java renders without failing gives JSON', () => {
      const notJson = all.filter(
        (_, index) =>
          (java[index] as Rendered).error === undefined && jsonOf((java[index] as Rendered).output) === NOT_JSON,
      );
      expect(notJson.map((item) => item.label)).toEqual([]);
    });

    it('the execution input Java builds carries every hostile body and the PEM exactly', () => {
      all.forEach((item, index) => {
        if (!item.label.includes(' request ')) return;
        const request = meaning((java[index] as Rendered).output as string) as {
          input: { body: unknown; principal: { certPem: string }; requestId: string };
        };
        // A template that does not read the body (POST /scans/{runId}/complete) must not pass one on.
        const expected = item.template.includes("$input.json('$')") ? JSON.parse(item.body) : undefined;
        expect([item.label, request.input.body]).toEqual([item.label, expected]);
        expect(request.input.principal.certPem).toBe(PEM);
        expect(request.input.requestId).toBe(item.context.extendedRequestId);
      });
    });
  });
}
