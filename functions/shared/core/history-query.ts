/** The query parameters of GET /vuln/history and GET /vuln/summary (parsed as GET /vuln's: get-findings-query.ts). */
import * as z from 'zod';
import { orgSchema, vulnIdSchema } from './finding-schema';
import { limitParameter, parseQueryParameters } from './get-findings-query';
import { DEFAULT_PAGE_SIZE } from './limits';

const historyQuerySchema = z.strictObject({
  org: orgSchema,
  vulnId: vulnIdSchema,
  limit: limitParameter,
  nextToken: z.string().min(1).max(2048).optional(),
});

export interface HistoryQuery {
  org: string;
  vulnId: string;
  limit: number;
  nextToken: string | undefined;
}

export function parseHistoryQuery(
  single: Record<string, string | undefined> | null,
  multi: Record<string, string[] | undefined> | null,
): HistoryQuery {
  const { org, vulnId, limit, nextToken } = parseQueryParameters(historyQuerySchema, single, multi);
  return { org, vulnId, limit: limit ?? DEFAULT_PAGE_SIZE, nextToken };
}

/**
 * What a history page token is bound to: the finding (an org never contains '#'), so a token of one finding's
 * history, or a GET /vuln token of the org, is refused for another (page-token.ts compares it exactly).
 */
export const historyTokenScope = (org: string, vulnId: string) => `${org}#${vulnId}`;

const summaryQuerySchema = z.strictObject({ org: orgSchema });

export function parseSummaryQuery(
  single: Record<string, string | undefined> | null,
  multi: Record<string, string[] | undefined> | null,
): { org: string } {
  return parseQueryParameters(summaryQuerySchema, single, multi);
}
