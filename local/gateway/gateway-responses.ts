/**
 * Gateway responses (`x-amazon-apigateway-gateway-responses`): the answers API Gateway gives when
 * it refuses a request itself. A response type without its own entry falls back to DEFAULT_4XX or
 * DEFAULT_5XX by its default status, and the body is the VTL template rendered with
 * `$context.error`, as in API Gateway. A customized type does not inherit the DEFAULT_4XX/5XX
 * headers ("Gateway response types for API Gateway": DEFAULT_4XX applies to "unspecified" types).
 */
import { staticHeaders, type HttpAnswer } from './http-answer';
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
  // A request AWS WAF blocked ("How do I troubleshoot HTTP 403 errors from API Gateway?", AWS Knowledge Center).
  WAF_FILTERED: { status: 403, errorType: 'ForbiddenException' },
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
  // A customized response type replaces DEFAULT_4XX/5XX whole: its headers are its own.
  const headers = {
    'Content-Type': 'application/json',
    'x-amzn-ErrorType': defaults.errorType,
    ...staticHeaders(definition?.responseParameters ?? {}, 'gatewayresponse.header.'),
  };
  return { status: rendered.statusOverride ?? status, headers, body: rendered.output };
}

/**
 * Headers for the answers this gateway gives before any route (the custom domain's mutual-TLS 403)
 * or when it fails itself: the API's DEFAULT_4XX / DEFAULT_5XX headers, so no answer goes without them.
 */
export function defaultResponseHeaders(api: ApiDefinition, status: number): Record<string, string> {
  return staticHeaders(
    api.gatewayResponses[status >= 500 ? 'DEFAULT_5XX' : 'DEFAULT_4XX']?.responseParameters ?? {},
    'gatewayresponse.header.',
  );
}
