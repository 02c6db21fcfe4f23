/**
 * Gateway responses (`x-amazon-apigateway-gateway-responses`): the answers API Gateway gives when
 * it refuses a request itself. A response type without its own entry falls back to DEFAULT_4XX or
 * DEFAULT_5XX by its default status, and the body is the VTL template rendered with
 * `$context.error`, as in API Gateway.
 */
import type { HttpAnswer } from './http-answer';
import type { ApiDefinition } from './openapi';
import { inputVariable, renderTemplate, type TemplateContext } from './vtl';

/** API Gateway's default status and error type header for the response types the gateway uses. */
const RESPONSE_TYPES = {
  MISSING_AUTHENTICATION_TOKEN: { status: 403, errorType: 'MissingAuthenticationTokenException' },
  BAD_REQUEST_BODY: { status: 400, errorType: 'BadRequestException' },
  BAD_REQUEST_PARAMETERS: { status: 400, errorType: 'BadRequestException' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, errorType: 'UnsupportedMediaTypeException' },
  REQUEST_TOO_LARGE: { status: 413, errorType: 'RequestTooLargeException' },
  THROTTLED: { status: 429, errorType: 'TooManyRequestsException' },
  API_CONFIGURATION_ERROR: { status: 500, errorType: 'InternalServerErrorException' },
  INTEGRATION_FAILURE: { status: 504, errorType: 'InternalServerErrorException' },
  INTEGRATION_TIMEOUT: { status: 504, errorType: 'InternalServerErrorException' },
} as const;

export type GatewayResponseType = keyof typeof RESPONSE_TYPES;

/** API Gateway's built-in body when no template applies. */
const BUILT_IN_TEMPLATE = '{"message":$context.error.messageString}';

export function gatewayResponse(
  api: ApiDefinition,
  type: GatewayResponseType,
  message: string,
  context: TemplateContext,
  options: { status?: number; validationErrorString?: string } = {},
): HttpAnswer {
  const defaults = RESPONSE_TYPES[type];
  const own = api.gatewayResponses[type];
  const status = own?.statusCode ?? options.status ?? defaults.status;
  const fallback = api.gatewayResponses[status >= 500 ? 'DEFAULT_5XX' : 'DEFAULT_4XX'];
  const definition = own ?? fallback;
  const template = definition?.responseTemplates['application/json'] ?? BUILT_IN_TEMPLATE;
  const errorContext: TemplateContext = {
    ...context,
    error: {
      message,
      messageString: JSON.stringify(message),
      responseType: type,
      ...(options.validationErrorString === undefined ? {} : { validationErrorString: options.validationErrorString }),
    },
  };
  const rendered = renderTemplate(template, inputVariable(''), errorContext);
  const headers: Record<string, string> = { 'Content-Type': 'application/json', 'x-amzn-ErrorType': defaults.errorType };
  for (const [name, value] of Object.entries({ ...(fallback?.responseParameters ?? {}), ...(definition?.responseParameters ?? {}) })) {
    // Only static values ('text') are meaningful without a method request to map from.
    const header = /^gatewayresponse\.header\.(.+)$/.exec(name)?.[1];
    const literal = /^'(.*)'$/.exec(value)?.[1];
    if (header && literal !== undefined) headers[header] = literal;
  }
  return { status: rendered.statusOverride ?? status, headers, body: rendered.output };
}
