import { ConfigurationError } from '../core/errors';

/** Reads a required environment variable at module load: a function without its configuration must not serve. */
export function requireEnv(name: string): string {
  const value = process.env[name];
  if (value === undefined || value.trim() === '')
    throw new ConfigurationError(`Missing required environment variable ${name}`);
  return value;
}

export function numberEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0)
    throw new ConfigurationError(`Environment variable ${name} must be a non-negative number`);
  return value;
}
