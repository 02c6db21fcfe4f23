/**
 * Lambda's side of an invocation: IAM decides whether the caller may `lambda:InvokeFunction` the function
 * (a state machine's role by its policies and the boundary; API Gateway by the function's resource policy,
 * which the template's `AWS::Lambda::Permission` builds with the route's `aws:SourceArn`), before the
 * function runs. A refusal is Lambda's HTTP 403 AccessDeniedException, which Step Functions reports as
 * `Lambda.AWSLambdaException` with the service's words in the Cause.
 */
import { LambdaServiceError, type InvokeOptions, type LocalFunctions } from '../lambda/invoker';
import { lambdaInvokeCall } from './calls';
import type { IamGate } from './gate';
import { localFunctionArn } from '../aws-local';

/** Lambda's refusal of an invocation IAM denies (the Invoke API's 403). */
export class LambdaAccessDeniedError extends LambdaServiceError {
  constructor(message: string) {
    super(
      'AWSLambdaException',
      `${message} (Service: AWSLambda; Status Code: 403; Error Code: AccessDeniedException)`,
      403,
    );
  }
}

export function iamCheckedFunctions<F extends Pick<LocalFunctions, 'invoke'>>(functions: F, gate: IamGate): F {
  const invoke = async (functionId: string, event: unknown, options: InvokeOptions = {}): Promise<unknown> => {
    if (options.caller) {
      const arn = functionId.startsWith('arn:') ? functionId : localFunctionArn(functionId);
      const verdict = await gate.check(options.caller.principal, lambdaInvokeCall(arn, options.caller.context));
      if (verdict.kind === 'denied') throw new LambdaAccessDeniedError(verdict.message);
    }
    return functions.invoke(functionId, event, options);
  };
  return { ...functions, invoke };
}
