/**
 * Reads api/openapi.yaml, the document API Gateway imports, into the local gateway's routes:
 * operations with their request validator, required parameters, body model and integration, plus
 * the gateway responses. Intrinsic functions are resolved by the local backend's resolver, so the
 * state machine ARN and function ARNs are the local ones and nothing is declared twice.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { PROJECT_ROOT, parseCloudFormation } from '../cloudformation/template';
import { SchemaValidator, type JsonSchema } from './json-schema';

export const OPENAPI_PATH = resolve(PROJECT_ROOT, 'api/openapi.yaml');

export interface IntegrationResponse {
  /** The selection pattern (`default` or a regex matched against the integration's status code). */
  pattern: string;
  statusCode: number;
  responseTemplates: Record<string, string>;
  /** `method.response.header.NAME: "'value'"` mappings. */
  responseParameters: Record<string, string>;
}

export interface AwsIntegration {
  type: 'aws';
  service: string;
  action: string;
  passthroughBehavior: string;
  requestTemplates: Record<string, string>;
  responses: IntegrationResponse[];
  timeoutMs: number;
  /** The role API Gateway assumes to call the service (`credentials`), as an ARN. */
  credentials?: string;
}

export interface ProxyIntegration {
  type: 'aws_proxy';
  functionArn: string;
  timeoutMs: number;
}

export interface ApiOperation {
  method: string;
  resourcePath: string;
  validateBody: boolean;
  validateParameters: boolean;
  requiredParameters: { querystring: string[]; header: string[]; path: string[] };
  /** Request models by content type. */
  bodyModels: Record<string, SchemaValidator>;
  /** The method responses' status codes (`responses` of the operation). */
  methodResponses: ReadonlySet<number>;
  integration: AwsIntegration | ProxyIntegration;
}

export interface GatewayResponseDefinition {
  statusCode?: number;
  responseTemplates: Record<string, string>;
  responseParameters: Record<string, string>;
}

export interface ApiDefinition {
  /** Operations by resource path, then by HTTP method (upper case; ANY for x-amazon-apigateway-any-method). */
  resources: Map<string, Map<string, ApiOperation>>;
  gatewayResponses: Record<string, GatewayResponseDefinition>;
}

export interface IntrinsicResolver {
  resolve(value: unknown): unknown;
}

type Document = {
  paths?: Record<string, Record<string, Record<string, unknown>>>;
  components?: { schemas?: Record<string, JsonSchema> };
  'x-amazon-apigateway-request-validators'?: Record<
    string,
    { validateRequestBody?: boolean; validateRequestParameters?: boolean }
  >;
  'x-amazon-apigateway-request-validator'?: string;
  'x-amazon-apigateway-gateway-responses'?: Record<
    string,
    {
      statusCode?: number | string;
      responseTemplates?: Record<string, string>;
      responseParameters?: Record<string, string>;
    }
  >;
};

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'x-amazon-apigateway-any-method'];

function schemaFor(document: Document, schema: JsonSchema): JsonSchema {
  const ref = schema.$ref;
  if (typeof ref !== 'string') return schema;
  const name = /^#\/components\/schemas\/(.+)$/.exec(ref)?.[1];
  const target = name === undefined ? undefined : document.components?.schemas?.[name];
  if (!target) throw new Error(`Unresolvable model reference ${ref}`);
  return target;
}

function awsIntegration(raw: Record<string, unknown>, where: string): AwsIntegration {
  const uri = String(raw.uri);
  // arn:PARTITION:apigateway:REGION:SERVICE:action/ACTION
  const match = /^arn:[^:]+:apigateway:[^:]*:([^:]+):action\/(\w+)$/.exec(uri);
  if (!match)
    throw new Error(`${where}: the local gateway supports AWS service integrations by action only, not ${uri}`);
  const [, service, action] = match as unknown as [string, string, string];
  if (service !== 'states' || action !== 'StartSyncExecution') {
    throw new Error(
      `${where}: the local gateway integrates with states:StartSyncExecution only, not ${service}:${action}`,
    );
  }
  type RawResponse = {
    statusCode?: string | number;
    responseTemplates?: Record<string, string>;
    responseParameters?: Record<string, string>;
  };
  const responses = Object.entries((raw.responses ?? {}) as Record<string, RawResponse>).map(([pattern, response]) => ({
    pattern,
    statusCode: Number(response.statusCode ?? 200),
    responseTemplates: response.responseTemplates ?? {},
    responseParameters: response.responseParameters ?? {},
  }));
  return {
    type: 'aws',
    service,
    action,
    passthroughBehavior: String(raw.passthroughBehavior ?? 'when_no_match'),
    requestTemplates: (raw.requestTemplates ?? {}) as Record<string, string>,
    responses,
    timeoutMs: Number(raw.timeoutInMillis ?? 29_000),
    ...(typeof raw.credentials === 'string' ? { credentials: raw.credentials } : {}),
  };
}

function proxyIntegration(raw: Record<string, unknown>, where: string): ProxyIntegration {
  const uri = String(raw.uri);
  const functionArn = /:lambda:path\/2015-03-31\/functions\/(.+)\/invocations$/.exec(uri)?.[1];
  if (!functionArn)
    throw new Error(`${where}: the local gateway supports aws_proxy integrations with Lambda only, not ${uri}`);
  return { type: 'aws_proxy', functionArn, timeoutMs: Number(raw.timeoutInMillis ?? 29_000) };
}

function operation(
  document: Document,
  resourcePath: string,
  method: string,
  raw: Record<string, unknown>,
): ApiOperation {
  const where = `${method.toUpperCase()} ${resourcePath}`;
  const validatorName = (raw['x-amazon-apigateway-request-validator'] ??
    document['x-amazon-apigateway-request-validator']) as string | undefined;
  const validator =
    validatorName === undefined ? {} : document['x-amazon-apigateway-request-validators']?.[validatorName];
  if (!validator) throw new Error(`${where}: unknown request validator ${validatorName}`);
  const requiredParameters = { querystring: [] as string[], header: [] as string[], path: [] as string[] };
  for (const parameter of (raw.parameters ?? []) as { name: string; in: string; required?: boolean }[]) {
    const location = parameter.in === 'query' ? 'querystring' : parameter.in;
    if (parameter.required && (location === 'querystring' || location === 'header' || location === 'path'))
      requiredParameters[location].push(parameter.name);
  }
  const content = ((raw.requestBody as { content?: Record<string, { schema?: JsonSchema }> } | undefined)?.content ??
    {}) as Record<string, { schema?: JsonSchema }>;
  const bodyModels = Object.fromEntries(
    Object.entries(content)
      .filter(([, media]) => media.schema !== undefined)
      .map(([contentType, media]) => [
        contentType.toLowerCase(),
        new SchemaValidator(schemaFor(document, media.schema as JsonSchema)),
      ]),
  );
  return {
    method: method === 'x-amazon-apigateway-any-method' ? 'ANY' : method.toUpperCase(),
    resourcePath,
    validateBody: validator.validateRequestBody === true,
    validateParameters: validator.validateRequestParameters === true,
    requiredParameters,
    bodyModels,
    methodResponses: new Set(Object.keys((raw.responses ?? {}) as Record<string, unknown>).map(Number)),
    integration: integrationOf(raw['x-amazon-apigateway-integration'] as Record<string, unknown> | undefined, where),
  };
}

function integrationOf(raw: Record<string, unknown> | undefined, where: string): AwsIntegration | ProxyIntegration {
  if (!raw) throw new Error(`${where} has no x-amazon-apigateway-integration`);
  const type = String(raw.type).toLowerCase();
  if (type === 'aws') return awsIntegration(raw, where);
  if (type === 'aws_proxy') return proxyIntegration(raw, where);
  throw new Error(`${where}: integration type ${type} is not supported by the local gateway`);
}

/** Parses and resolves the OpenAPI document. Throws on anything the local gateway could not honour. */
export function loadApiDefinition(resolver: IntrinsicResolver, path = OPENAPI_PATH): ApiDefinition {
  const document = resolver.resolve(parseCloudFormation<unknown>(readFileSync(path, 'utf8'))) as Document;
  const resources = new Map<string, Map<string, ApiOperation>>();
  for (const [resourcePath, item] of Object.entries(document.paths ?? {})) {
    const operations = new Map<string, ApiOperation>();
    for (const method of METHODS) {
      const raw = item[method];
      if (raw) {
        const parsed = operation(document, resourcePath, method, raw);
        operations.set(parsed.method, parsed);
      }
    }
    resources.set(resourcePath, operations);
  }
  const gatewayResponses = Object.fromEntries(
    Object.entries(document['x-amazon-apigateway-gateway-responses'] ?? {}).map(([type, response]) => [
      type,
      {
        ...(response.statusCode === undefined ? {} : { statusCode: Number(response.statusCode) }),
        responseTemplates: response.responseTemplates ?? {},
        responseParameters: response.responseParameters ?? {},
      },
    ]),
  );
  return { resources, gatewayResponses };
}

/** Matches a request path against the resource paths (`{name}` segments and `{name+}` greedy tails). */
export function matchResource(
  api: ApiDefinition,
  path: string,
): { resourcePath: string; operations: Map<string, ApiOperation>; pathParameters: Record<string, string> } | undefined {
  const exact = api.resources.get(path);
  if (exact) return { resourcePath: path, operations: exact, pathParameters: {} };
  for (const [resourcePath, operations] of api.resources) {
    const names: string[] = [];
    const pattern = resourcePath
      .split('/')
      .map((segment) => {
        const parameter = /^\{([^}+]+)(\+?)\}$/.exec(segment);
        if (!parameter) return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
        names.push(parameter[1] as string);
        return parameter[2] ? '(.+)' : '([^/]+)';
      })
      .join('/');
    const match = new RegExp(`^${pattern}$`).exec(path);
    if (match) {
      const pathParameters = Object.fromEntries(
        names.map((name, index) => [name, decodeURIComponent(match[index + 1] as string)]),
      );
      return { resourcePath, operations, pathParameters };
    }
  }
  return undefined;
}
