/**
 * Renders API Gateway mapping templates (request/response templates, gateway responses) with
 * velocityjs, providing the `$input`, `$context` and `$util` variables API Gateway provides.
 * Where JavaScript and Java strings differ in a way templates rely on (`replaceAll`, `replace`,
 * `length()`, `matches`), the Java behaviour is used: see java-string.ts.
 */
import { Compile, parse } from 'velocityjs';
import { escapeJavaScript, javaReplaceAll, javaReplaceFirst } from './java-string';
import { evaluateJsonPath } from './json-path';

/** What `$input.params()` returns: request parameters by location. */
export interface RequestParameters {
  path: Record<string, string>;
  querystring: Record<string, string>;
  header: Record<string, string>;
}

export interface ClientCertificateContext {
  clientCertPem: string;
  subjectDN: string;
  issuerDN: string;
  serialNumber: string;
  validity: { notBefore: string; notAfter: string };
}

export interface ErrorContext {
  message: string;
  /** The message as a quoted JSON string, which is how API Gateway gives it. */
  messageString: string;
  responseType: string;
  validationErrorString?: string;
}

export interface TemplateContext {
  requestId: string;
  extendedRequestId: string;
  httpMethod: string;
  resourcePath: string;
  path: string;
  stage: string;
  requestTime: string;
  requestTimeEpoch: number;
  protocol: string;
  domainName: string;
  apiId: string;
  accountId: string;
  identity: { sourceIp: string; userAgent: string | null; clientCert: ClientCertificateContext | null };
  error?: ErrorContext;
}

export interface RenderResult {
  output: string;
  /** `$context.responseOverride.status`, when the template set it. */
  statusOverride: number | undefined;
  /** `$context.responseOverride.header.<name>` values the template set. */
  headerOverrides: Record<string, string>;
}

/** `java.net.URLEncoder.encode(value, "UTF-8")`: spaces become '+', only [A-Za-z0-9.*_-] stay as they are. */
function urlEncode(value: string): string {
  return encodeURIComponent(value)
    .replace(/[!'()~]/g, (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%20/g, '+');
}

const util = {
  escapeJavaScript: (value: unknown) => (value === null || value === undefined ? '' : escapeJavaScript(String(value))),
  parseJson: (value: unknown) => JSON.parse(String(value)) as unknown,
  urlEncode: (value: unknown) => urlEncode(String(value)),
  urlDecode: (value: unknown) => decodeURIComponent(String(value).replace(/\+/g, ' ')),
  base64Encode: (value: unknown) => Buffer.from(String(value), 'utf8').toString('base64'),
  base64Decode: (value: unknown) => Buffer.from(String(value), 'base64').toString('utf8'),
};

type StringMethod = (value: string, params: unknown[]) => unknown;

/** java.lang.String methods whose JavaScript namesake is missing or behaves differently. */
const JAVA_STRING_METHODS: Record<string, StringMethod> = {
  replaceAll: (value, [regex, replacement]) => javaReplaceAll(value, String(regex), String(replacement)),
  replaceFirst: (value, [regex, replacement]) => javaReplaceFirst(value, String(regex), String(replacement)),
  // Java's replace(CharSequence, CharSequence) replaces every occurrence, literally.
  replace: (value, [target, replacement]) => value.split(String(target)).join(String(replacement)),
  length: (value) => value.length,
  matches: (value, [regex]) => new RegExp(`^(?:${String(regex)})$`).test(value),
  equals: (value, [other]) => value === other,
  isEmpty: (value) => value.length === 0,
  contains: (value, [part]) => value.includes(String(part)),
};

type CompileConfig = NonNullable<ConstructorParameters<typeof Compile>[1]>;

const CONFIG: CompileConfig = {
  escape: false,
  customMethodHandlers: Object.entries(JAVA_STRING_METHODS).map(([name, method]) => ({
    uid: `java-string: ${name}`,
    match: ({ property, context }) => property === name && typeof context === 'string',
    resolve: ({ context, params }) => method(context as string, params),
  })),
};

const parsed = new Map<string, ReturnType<typeof parse>>();

function compiled(template: string): Compile {
  let asts = parsed.get(template);
  if (!asts) {
    asts = parse(template);
    parsed.set(template, asts);
  }
  return new Compile(asts, CONFIG);
}

/** The `$input` variable over a request or integration response body. */
export function inputVariable(body: string, params: RequestParameters = { path: {}, querystring: {}, header: {} }) {
  let document: unknown;
  let parsedBody = false;
  const json = (): unknown => {
    if (!parsedBody) {
      // An empty body reads as an empty object, as in API Gateway.
      document = body.trim() === '' ? {} : JSON.parse(body);
      parsedBody = true;
    }
    return document;
  };
  return {
    body,
    path: (path: string) => evaluateJsonPath(json(), path),
    json: (path: string) => JSON.stringify(evaluateJsonPath(json(), path)) ?? '',
    params: (name?: string) => {
      if (name === undefined) return params;
      return params.path[name] ?? params.querystring[name] ?? params.header[name] ?? '';
    },
  };
}

/** Renders `template`. Throws when the template cannot be parsed or a helper fails. */
export function renderTemplate(
  template: string,
  input: ReturnType<typeof inputVariable>,
  context: TemplateContext,
): RenderResult {
  const responseOverride: { status?: unknown; header: Record<string, unknown> } = { header: {} };
  const output = compiled(template).render({
    input,
    util: { ...util },
    context: { ...structuredClone(context), responseOverride },
  });
  const status = responseOverride.status === undefined ? undefined : Number(responseOverride.status);
  return {
    output,
    statusOverride:
      status !== undefined && Number.isInteger(status) && status >= 100 && status <= 599 ? status : undefined,
    headerOverrides: Object.fromEntries(
      Object.entries(responseOverride.header).map(([name, value]) => [name, String(value)]),
    ),
  };
}
