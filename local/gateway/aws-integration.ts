/**
 * The `type: aws` integration of POST /vuln: the operation's request mapping template builds the
 * StartSyncExecution request, the local state machine runs it, and the integration response whose
 * selection pattern matches the Step Functions API status renders the answer, exactly as API
 * Gateway chains them. Failures land where they would in AWS: a template that does not render is a
 * configuration error (500), a request Step Functions refuses is its HTTP 400, selected by `4\d{2}`.
 *
 * An integration response whose status is not one of the method's declared responses is a
 * configuration error too: API Gateway logs "Execution failed due to configuration error: Output
 * mapping refers to an invalid method response" and answers a bare 500 (Set up method responses /
 * Set up integration responses, API Gateway Developer Guide). A `$context.responseOverride.status`
 * to an undeclared status is refused the same way here, which is at least as strict as AWS.
 */
import { syncExecutionResponse } from '../stepfunctions/api';
import { stepFunctionsCall } from '../iam/calls';
import type { IamGate } from '../iam/gate';
import { staticHeaders, withTimeout, type HttpAnswer } from './http-answer';
import type { GatewayLog } from './log';
import type { ApiOperation, AwsIntegration } from './openapi';
import { inputVariable, renderTemplate, type RequestParameters, type TemplateContext } from './vtl';

export interface SyncExecution {
  executionArn: string;
  stateMachineArn: string;
  name: string;
  startDate: Date | number;
  stopDate: Date | number;
  status: string;
  input: string;
  output?: string;
  error?: string;
  cause?: string;
}

export interface StateMachineTarget {
  arn: string;
  startSyncExecution(input: string, name?: string, traceHeader?: string): Promise<SyncExecution>;
}

/** The Step Functions API's HTTP answer, as the integration response sees it. */
interface ServiceAnswer {
  status: number;
  body: string;
}

export type IntegrationOutcome =
  { kind: 'answer'; answer: HttpAnswer } | { kind: 'configuration-error' } | { kind: 'timeout' };

const serviceError = (status: number, type: string, message: string): ServiceAnswer => ({
  status,
  body: JSON.stringify({ __type: type, message }),
});

/** StartSyncExecution as the Step Functions API answers it (JSON 1.0 protocol, dates in epoch seconds). */
async function startSyncExecution(
  targets: readonly StateMachineTarget[],
  requestBody: string,
  log: GatewayLog,
  requestId: string,
  iam: { gate: IamGate; roleArn: string | undefined } | undefined,
): Promise<ServiceAnswer> {
  let request: { stateMachineArn?: unknown; name?: unknown; input?: unknown };
  try {
    request = JSON.parse(requestBody) as typeof request;
  } catch {
    log({ level: 'ERROR', requestId, message: 'Execution failed: the request mapping template did not produce JSON' });
    return serviceError(400, 'SerializationException', 'Start of structure or map found where not expected');
  }
  const target = targets.find((candidate) => candidate.arn === request.stateMachineArn);
  if (!target)
    return serviceError(
      400,
      'StateMachineDoesNotExist',
      `State Machine Does Not Exist: '${String(request.stateMachineArn)}'`,
    );
  if (request.input !== undefined && typeof request.input !== 'string')
    return serviceError(400, 'SerializationException', 'input must be a string');
  if (iam) {
    // API Gateway calls the service with the integration's credentials role; without one it has no credentials.
    const role = /:role\/([A-Za-z0-9]+)$/.exec(iam.roleArn ?? '')?.[1];
    const verdict = await iam.gate.check(
      role === undefined
        ? { kind: 'unknown', keyId: undefined }
        : { kind: 'role', roleArn: iam.roleArn as string, roleName: role, session: 'ApiGateway' },
      stepFunctionsCall('StartSyncExecution', target.arn),
    );
    if (verdict.kind === 'denied') {
      log({ level: 'ERROR', requestId, message: 'StartSyncExecution refused by IAM', reason: verdict.message });
      return serviceError(400, verdict.code, verdict.message);
    }
  }
  try {
    const result = await target.startSyncExecution(
      request.input ?? '{}',
      typeof request.name === 'string' ? request.name : undefined,
    );
    return { status: 200, body: JSON.stringify(syncExecutionResponse(result)) };
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    // The local state machine throws errors with a `code` for what the API itself refuses (HTTP 400).
    if (typeof code === 'string') return serviceError(400, code, (error as Error).message);
    log({ level: 'ERROR', requestId, message: 'StartSyncExecution failed', errorType: (error as Error).name });
    return serviceError(500, 'InternalFailure', 'Internal failure');
  }
}

function selectResponse(integration: AwsIntegration, status: number) {
  const code = String(status);
  return (
    integration.responses.find(
      (response) => response.pattern !== 'default' && new RegExp(`^(?:${response.pattern})$`).test(code),
    ) ?? integration.responses.find((response) => response.pattern === 'default')
  );
}

export async function invokeAwsIntegration(
  operation: ApiOperation & { integration: AwsIntegration },
  request: { contentType: string; body: string; params: RequestParameters },
  context: TemplateContext,
  targets: StateMachineTarget | readonly StateMachineTarget[],
  log: GatewayLog,
  iam?: IamGate,
): Promise<IntegrationOutcome> {
  const integration = operation.integration;
  const template = integration.requestTemplates[request.contentType];
  let integrationRequest: string;
  try {
    integrationRequest =
      template === undefined
        ? request.body
        : renderTemplate(template, inputVariable(request.body, request.params), context).output;
  } catch (error) {
    log({
      level: 'ERROR',
      requestId: context.extendedRequestId,
      message: 'Execution failed due to configuration error: Unable to transform request',
      errorType: (error as Error).name,
    });
    return { kind: 'configuration-error' };
  }

  const service = await withTimeout(
    startSyncExecution(
      Array.isArray(targets) ? targets : [targets as StateMachineTarget],
      integrationRequest,
      log,
      context.extendedRequestId,
      iam ? { gate: iam, roleArn: integration.credentials } : undefined,
    ),
    integration.timeoutMs,
  );
  if (service === 'timeout') return { kind: 'timeout' };

  const selected = selectResponse(integration, service.status);
  if (!selected) {
    log({
      level: 'ERROR',
      requestId: context.extendedRequestId,
      message: `Execution failed due to configuration error: No match for output mapping and no default output mapping (${service.status})`,
    });
    return { kind: 'configuration-error' };
  }
  const [contentType, responseTemplate] = Object.entries(selected.responseTemplates)[0] ?? [
    'application/json',
    undefined,
  ];
  try {
    const rendered =
      responseTemplate === undefined
        ? undefined
        : renderTemplate(responseTemplate, inputVariable(service.body), context);
    const status = rendered?.statusOverride ?? selected.statusCode;
    for (const code of new Set([selected.statusCode, status])) {
      if (!operation.methodResponses.has(code)) {
        log({
          level: 'ERROR',
          requestId: context.extendedRequestId,
          message: `Execution failed due to configuration error: Output mapping refers to an invalid method response: ${code}`,
        });
        return { kind: 'configuration-error' };
      }
    }
    return {
      kind: 'answer',
      answer: {
        status,
        headers: {
          'Content-Type': contentType,
          ...staticHeaders(selected.responseParameters, 'method.response.header.'),
          ...(rendered?.headerOverrides ?? {}),
        },
        body: rendered?.output ?? service.body,
      },
    };
  } catch (error) {
    log({
      level: 'ERROR',
      requestId: context.extendedRequestId,
      message: 'Execution failed due to configuration error: Unable to transform response',
      errorType: (error as Error).name,
    });
    return { kind: 'configuration-error' };
  }
}
