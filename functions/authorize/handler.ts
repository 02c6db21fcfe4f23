import * as z from 'zod';
import { instrument } from '../shared/adapters/instrument';
import { authorizeRequest, type Authorized } from '../shared/adapters/authorization';
import { logger, tracer } from '../shared/adapters/powertools';

const inputSchema = z.object({
  method: z.enum(['GET', 'POST']),
  requestId: z.string().min(1),
  sourceIp: z.string().optional(),
  principal: z.object({ certPem: z.string().optional() }).passthrough(),
  findings: z.array(z.object({ Org: z.string() }).passthrough()).min(1),
});

/**
 * Step 3 of ingestion (and of opening and completing a scan run): the certificate's OU must be granted
 * POST on every org of the batch. The answer names the certificate (its SHA-256, serial, CA key) so a run can record its opener.
 */
export const handler = instrument(async (event: unknown): Promise<{ allowed: true } & Authorized> => {
  const input = inputSchema.parse(event);
  logger.appendKeys({ requestId: input.requestId });
  const orgs = [...new Set(input.findings.map((finding) => finding.Org))].sort();
  tracer.putAnnotation('org', orgs.join(','));
  const authorized = await authorizeRequest({
    certPem: input.principal.certPem,
    method: input.method,
    orgs,
    requestId: input.requestId,
    sourceIp: input.sourceIp,
  });
  // What the workflow records: a run's opener, and on each finding it writes who wrote it (subject, serial, CA key).
  const { ou, subject, serialNumber, issuerKey, certificateSha256 } = authorized;
  return { allowed: true, ou, subject, serialNumber, certificateSha256, ...(issuerKey ? { issuerKey } : {}) };
});
