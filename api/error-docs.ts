/**
 * docs/errors.md, written from the error table in functions/shared/core/errors.ts by
 * `npm run generate:model`; tests/unit/error-docs.test.ts fails when the file and the table differ.
 */
import { resolve } from 'node:path';
import { ERROR_ANSWERS, FIXED_ISSUES, type ErrorAnswer } from '../functions/shared/core/errors';
import { UNPROCESSED_CODES } from '../functions/shared/core/triage';
import { MAX_SLA_DAYS, SLA_DAYS_MESSAGE } from '../functions/shared/core/sla';

const SLA_DAYS_RULE = `from 1 to ${MAX_SLA_DAYS}`;

export const ERRORS_DOC_PATH = resolve(__dirname, '..', 'docs', 'errors.md');

const json = (value: unknown) => `\`${JSON.stringify(value)}\``;

export function errorsMarkdown(): string {
  const rows = (Object.values(ERROR_ANSWERS) as ErrorAnswer[])
    .map((row) => {
      const retry = row.retryAfterSeconds === undefined ? '' : `\`Retry-After: ${row.retryAfterSeconds}\``;
      return `| ${row.status} | ${row.message} | ${retry} | ${row.when.join('; ')} |`;
    })
    .join('\n');
  return `# Error answers

Generated from \`functions/shared/core/errors.ts\` by \`npm run generate:model\`; a test keeps this file equal to
that table, and another (\`tests/template/error-answers.test.ts\`) keeps the state machine and the OpenAPI
document equal to it. Do not edit by hand.

Every answer that is not a success is JSON with the table's \`message\` and the request id,
\`{"message": "...", "requestId": "..."}\`. The request id is API Gateway's \`$context.extendedRequestId\`,
also sent as the \`x-amz-apigw-id\` header; quote it when asking what happened to a request. (A client can
set \`x-amzn-RequestId\` itself, so that header identifies nothing.)

| Status | message | Header | When |
| --- | --- | --- | --- |
${rows}

## 400: the one shape

\`{ "message": "${ERROR_ANSWERS.invalidRequest.message}", "requestId": "...", "errors": [{ "index": 0, "path": "DueDate", "message": "must be a real calendar date" }] }\`

- \`index\` is the finding's position in the batch (0 for a single finding), or \`null\` when the issue is about
  the request as a whole; \`path\` is a field of our schema (\`""\` for the whole finding or request).
- Nothing the client sent is repeated: not values, and not field names we do not know (those are
  \`"unknown field"\` at the finding's index).
- API Gateway's request model checks only the envelope, and answers with one fixed issue:
  ${json(FIXED_ISSUES.envelope)}. The Validate step then names each field.
- A missing \`org\` on \`GET /vuln\` is refused by API Gateway with ${json(FIXED_ISSUES.missingOrg)}.

## POST /vuln/triage: an answer per item

A triage request that passes the checks above answers \`200\` with \`processed\` (each \`{index, vulnId, workflow,
version}\`) and \`unprocessed\` (each \`{index, vulnId, code, message}\`, \`vulnId\` \`null\` when it was not a valid
id), like Security Hub's \`BatchUpdateFindings\`. One bad item never blocks the others, and each item is written
whole or not at all. The codes:

| code | When |
| --- | --- |
${Object.entries(UNPROCESSED_CODES)
  .map(([code, when]) => `| \`${code}\` | ${when} |`)
  .join('\n')}

## The authz tool's SLA values

\`npm run authz -- sla set --org ORG --critical DAYS ...\` takes, per severity, whole days ${SLA_DAYS_RULE}
(\`none\`: that severity has no SLA). Anything else exits with code 2, names the option and writes nothing:
\`authz: --critical ${SLA_DAYS_MESSAGE}\`. A policy stored by other means is checked where it is read: the
tool refuses to build on one that breaks the schema (\`sla reset\` replaces it), and \`GET /vuln\` answers 500
for that org (above).

## Refused before any route

A client certificate that is missing, untrusted, expired or otherwise refused by the mutual-TLS custom domain
gets \`403 {"message":"Forbidden"}\` from the domain itself, before any route or gateway response applies, so
that one answer has no request id in its body.
`;
}
