/**
 * The local stack's ports, one definition for `npm start` and every tool that talks to it:
 * PORT (the mTLS gateway), DYNAMODB_PORT, SFN_PORT, XRAY_DAEMON_PORT (UDP) and TRACES_PORT (the trace page),
 * with their defaults.
 */
import { discoverStack } from './stack-state';

export const DEFAULT_PORTS = {
  gateway: 3443,
  dynamoDb: 8000,
  stepFunctions: 8083,
  xrayDaemon: 2000,
  traces: 3000,
} as const;

export interface LocalPorts {
  gateway: number;
  dynamoDb: number;
  stepFunctions: number;
  xrayDaemon: number;
  traces: number;
}

function port(environment: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = environment[name];
  const value = raw === undefined || raw === '' ? fallback : Number(raw);
  if (!Number.isInteger(value) || value < 0 || value > 65535)
    throw new Error(`${name} must be a port number (0-65535), not ${JSON.stringify(raw)}`);
  return value;
}

export function localPorts(environment: NodeJS.ProcessEnv = process.env): LocalPorts {
  return {
    gateway: port(environment, 'PORT', DEFAULT_PORTS.gateway),
    dynamoDb: port(environment, 'DYNAMODB_PORT', DEFAULT_PORTS.dynamoDb),
    stepFunctions: port(environment, 'SFN_PORT', DEFAULT_PORTS.stepFunctions),
    xrayDaemon: port(environment, 'XRAY_DAEMON_PORT', DEFAULT_PORTS.xrayDaemon),
    traces: port(environment, 'TRACES_PORT', DEFAULT_PORTS.traces),
  };
}

/**
 * The ports a tool talks to: PORT, DYNAMODB_PORT and SFN_PORT where its environment sets them, else
 * those of the stack `npm start` runs in this checkout (.local/stack.json, see stack-state.ts), else the defaults.
 */
export function targetPorts(environment: NodeJS.ProcessEnv = process.env): LocalPorts {
  return discoverStack(environment)?.ports ?? localPorts(environment);
}
