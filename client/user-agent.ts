/**
 * The User-Agent every operator tool sends: the project's name and version from package.json, and the
 * tool. AWS WAF's core rule set blocks a request without one (`NoUserAgent_HEADER`, "Baseline rule groups",
 * AWS WAF Developer Guide), and a named agent tells the operator's own requests apart in the access and WAF logs.
 * The same rule set's `UserAgent_BadBots_HEADER` names `nessus` and `nmap` among the agents it blocks, so the
 * tool's name never carries the scanner it imports from.
 */
import manifest from '../package.json';

export type OperatorTool = 'push' | 'demo' | 'seed' | 'bench' | 'smoke' | 'authz' | 'tests';

/** `secure-vuln-api-push/0.1.0`. */
export function userAgent(tool: OperatorTool): string {
  return `${manifest.name}-${tool}/${manifest.version}`;
}
