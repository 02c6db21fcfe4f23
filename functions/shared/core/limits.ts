/** Limits shared by the schema, the gateway and the template (one source for each number). */
export const MAX_FINDINGS_PER_REQUEST = 100;
/**
 * Step Functions caps an execution's input at 256 KiB. Bodies above this are refused with 413
 * before anything runs; the per-field length limits keep every valid batch far below it.
 */
export const MAX_BODY_BYTES = 256 * 1024;
export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 100;
