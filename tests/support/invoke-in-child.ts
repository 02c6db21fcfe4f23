/**
 * Runs a handler in this (child) process the way a Lambda runtime does, one invocation after another,
 * setting each invocation's environment (the trace variables) before calling it. Reads
 * `{ entryPoint, invocations: [{ event, environment }] }` on stdin, writes the outcomes as JSON on stdout.
 */
import { readFileSync } from 'node:fs';
import type { Context } from 'aws-lambda';

interface Request {
  entryPoint: string;
  invocations: { event: unknown; environment: Record<string, string> }[];
}

async function main(): Promise<void> {
  const request = JSON.parse(readFileSync(0, 'utf8')) as Request;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { handler } = require(request.entryPoint) as {
    handler: (event: unknown, context: Context) => Promise<unknown>;
  };
  const outcomes: { ok: boolean; errorType?: string }[] = [];
  for (const [index, invocation] of request.invocations.entries()) {
    Object.assign(process.env, invocation.environment);
    const context = {
      functionName: process.env.AWS_LAMBDA_FUNCTION_NAME ?? 'function',
      awsRequestId: `request-${index}`,
      getRemainingTimeInMillis: () => 10_000,
    } as Context;
    try {
      await handler(invocation.event, context);
      outcomes.push({ ok: true });
    } catch (error) {
      outcomes.push({ ok: false, errorType: (error as Error).name });
    }
  }
  process.stdout.write(JSON.stringify(outcomes));
}

void main();
