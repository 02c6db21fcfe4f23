/**
 * The gateway's log: one JSON object per line, like API Gateway's access and execution logs. Callers
 * never pass a certificate PEM or a request body, and log errors by name only: a parser's message
 * can quote the text it failed on.
 */
export type GatewayLog = (entry: Record<string, unknown>) => void;

export const jsonLineLog: GatewayLog = (entry) => {
  process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), source: 'local-gateway', ...entry })}\n`);
};

export const silentLog: GatewayLog = () => undefined;
