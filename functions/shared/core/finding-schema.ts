import { z } from 'zod';
import { toIsoDate } from './dates';
import { MAX_FINDINGS_PER_REQUEST } from './limits';

/**
 * The finding as scanners send it: the single source of truth for the Validate step and the
 * normalizer's input type. (API Gateway's request model checks only the envelope: api/request-model.ts.)
 */
const SAFE_ID = /^[A-Za-z0-9][A-Za-z0-9._:@-]*$/;
/** Printable text without control characters (log and dashboard injection). */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const PRINTABLE = /^[^\u0000-\u001f\u007f]*$/;

/** A string that says "is required" when absent instead of zod's generic type message. */
const requiredString = () => z.string({ error: (issue) => (issue.input === undefined ? 'is required' : 'must be a string') });

const nonEmptyText = (max: number) =>
  requiredString()
    .min(1, { error: 'must not be empty', abort: true })
    .max(max, { error: `must be at most ${max} characters`, abort: true })
    .regex(PRINTABLE, { error: 'must not contain control characters', abort: true });

export const orgSchema = requiredString()
  .min(1, { error: 'must not be empty', abort: true })
  .max(64, { error: 'must be at most 64 characters', abort: true })
  .regex(SAFE_ID, 'must use only letters, digits and . _ : @ - (starting with a letter or digit)');

export const vulnIdSchema = requiredString()
  .min(1, { error: 'must not be empty', abort: true })
  .max(128, { error: 'must be at most 128 characters', abort: true })
  .regex(SAFE_ID, 'must use only letters, digits and . _ : @ - (starting with a letter or digit)');

export const findingSchema = z.strictObject({
  VulnID: vulnIdSchema,
  Org: orgSchema,
  AssetName: nonEmptyText(255).refine((v) => v.trim().length > 0, 'must not be blank'),
  DueDate: requiredString()
    .regex(/^(\d{2}-\d{2}-\d{4}|\d{4}-\d{2}-\d{2})$/, { error: 'must be MM-DD-YYYY or YYYY-MM-DD', abort: true })
    .refine((v) => toIsoDate(v) !== null, 'must be a real calendar date'),
  PluginId: z.number({ error: (issue) => (issue.input === undefined ? 'is required' : 'must be a number') }).int('must be an integer').min(0, 'must not be negative').max(2_147_483_647, 'is too large'),
  PluginName: nonEmptyText(512),
  Priority: nonEmptyText(64),
});

export const batchSchema = z.strictObject({
  findings: z
    .array(findingSchema)
    .min(1, 'must hold at least one finding')
    .max(MAX_FINDINGS_PER_REQUEST, `must hold at most ${MAX_FINDINGS_PER_REQUEST} findings`),
});

export type Finding = z.infer<typeof findingSchema>;

