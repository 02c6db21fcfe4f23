/**
 * [9] The GET function logs and answers with the id API Gateway generates
 * (`requestContext.extendedRequestId`), not `requestContext.requestId`, which a client can set on AWS
 * ("$context.requestId ... Clients can override this request ID"; "$context.extendedRequestId ...
 * API Gateway generates": API Gateway Developer Guide, "$context variables for data models,
 * authorizers, mapping templates, and access logging").
 */
import { getFindingsEvent } from '../support/events';
import { dashboardCertificate } from '../support/certificates';
import {
  captureLogs,
  lambdaContext,
  resetGetFindingsMocks,
  setHandlerEnvironment,
  type CapturedLogs,
} from '../support/lambda';

setHandlerEnvironment();
let handler: typeof import('../../functions/get-findings/handler').handler;
let logs: CapturedLogs;

beforeAll(async () => {
  ({ handler } = await import('../../functions/get-findings/handler'));
});
beforeEach(() => {
  resetGetFindingsMocks();
  logs = captureLogs();
});
afterEach(() => logs.restore());

test('a client-chosen requestId never reaches the logs or the answer', async () => {
  const certPem = (await dashboardCertificate()).certPem;
  const event = getFindingsEvent({
    query: { org: 'org1', limit: '0' },
    certPem,
    requestId: 'client-chosen-id',
    extendedRequestId: 'GeNeRaTeDbYaPiGw=',
  });
  const answer = await handler(event, lambdaContext('get-findings'));
  expect(answer.statusCode).toBe(400);
  expect(JSON.parse(answer.body)).toMatchObject({ requestId: 'GeNeRaTeDbYaPiGw=' });
  expect(logs.lines().length).toBeGreaterThan(0);
  const denied = await handler(
    getFindingsEvent({
      query: { org: 'org9' },
      certPem,
      requestId: 'client-chosen-id',
      extendedRequestId: 'GeNeRaTeDbYaPiGw=',
    }),
    lambdaContext('get-findings'),
  );
  expect(denied.statusCode).toBe(403);
  expect(logs.lines()).toContainEqual(
    expect.objectContaining({ message: 'authorization decision', requestId: 'GeNeRaTeDbYaPiGw=' }),
  );
  for (const line of logs.lines()) expect(line.requestId).toBe('GeNeRaTeDbYaPiGw=');
  expect(logs.text()).not.toContain('client-chosen-id');
  expect(answer.body).not.toContain('client-chosen-id');
});
