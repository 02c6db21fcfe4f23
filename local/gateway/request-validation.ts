/**
 * The method's request validator (`x-amazon-apigateway-request-validator`): required parameters,
 * then the body against the model for its content type. Content types without a model are not
 * validated, as in API Gateway (passthroughBehavior decides about them afterwards).
 */
import { emptyMap, lastValues, rawHeaderValues } from './headers';
import type { IncomingMessage } from 'node:http';
import type { ApiOperation } from './openapi';
import type { RequestParameters } from './vtl';

export interface ValidationFailure {
  type: 'BAD_REQUEST_PARAMETERS' | 'BAD_REQUEST_BODY';
  message: string;
  validationErrorString: string;
}

/** `$input.params()`: path, query string (last value wins) and headers as the client spelled them. */
export function requestParameters(
  request: IncomingMessage,
  url: URL,
  pathParameters: Record<string, string>,
): RequestParameters {
  const header = lastValues(rawHeaderValues(request));
  const querystring = emptyMap<string>();
  for (const [name, value] of url.searchParams) querystring[name] = value;
  const path = emptyMap<string>();
  for (const [name, value] of Object.entries(pathParameters)) path[name] = value;
  return { path, querystring, header };
}

function missingParameters(operation: ApiOperation, params: RequestParameters): string[] {
  const lowerHeaders = new Set(Object.keys(params.header).map((name) => name.toLowerCase()));
  return [
    ...operation.requiredParameters.path.filter((name) => !Object.hasOwn(params.path, name)),
    ...operation.requiredParameters.querystring.filter((name) => !Object.hasOwn(params.querystring, name)),
    ...operation.requiredParameters.header.filter((name) => !lowerHeaders.has(name.toLowerCase())),
  ];
}

export function validateRequest(
  operation: ApiOperation,
  params: RequestParameters,
  contentType: string,
  body: string,
): ValidationFailure | undefined {
  if (operation.validateParameters) {
    const missing = missingParameters(operation, params);
    if (missing.length > 0) {
      const message = `Missing required request parameters: [${missing.join(', ')}]`;
      return { type: 'BAD_REQUEST_PARAMETERS', message, validationErrorString: message };
    }
  }
  const model = operation.validateBody ? operation.bodyModels[contentType] : undefined;
  if (!model) return undefined;
  let problem: string | undefined;
  try {
    problem = model.validate(body.trim() === '' ? undefined : JSON.parse(body));
  } catch {
    problem = 'not valid JSON';
  }
  return problem === undefined
    ? undefined
    : { type: 'BAD_REQUEST_BODY', message: 'Invalid request body', validationErrorString: `[${problem}]` };
}
