/**
 * Where the time of a set of V8 CPU profiles went, by package or source file: frames in a function's
 * minified bundle are mapped back through the bundle's source map (node:module SourceMap), so the
 * profile of an execution environment reads `zod`, `@smithy/core` or `functions/shared/core/identity.ts`
 * instead of `handler.js:1:80891`. Idle time is left out.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  busyMs: number;
  idleMs: number;
  /** Self time by package (node_modules), project file or built-in module, largest first. */
  bySource: { source: string; ms: number }[];
}

/** `node_modules/@smithy/core/dist/x.js` → `@smithy/core`; a project path stays a path. */
function sourceName(path: string, root: string): string {
  const packageMatch = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
  if (packageMatch) return packageMatch[1] as string;
  if (path.startsWith('node:')) return path;
  return relative(root, path.replace(/^(\.\.\/)+/, `${root}/`));
}

export function profileFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return profileFiles(path);
    return name.endsWith('.cpuprofile') ? [path] : [];
  });
}

export function summarizeProfiles(files: string[], root: string): ProfileSummary {
  const maps = new Map<string, SourceMap | undefined>();
  const mapFor = (url: string) => {
    if (!maps.has(url)) {
      const path = url.startsWith('file://') ? fileURLToPath(url) : url;
      maps.set(
        url,
        existsSync(`${path}.map`) ? new SourceMap(JSON.parse(readFileSync(`${path}.map`, 'utf8')) as never) : undefined,
      );
    }
    return maps.get(url);
  };
  const bySource = new Map<string, number>();
  let busy = 0;
  let idle = 0;
  for (const file of files) {
    const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
    const nodes = new Map(profile.nodes.map((node) => [node.id, node.callFrame]));
    const names = new Map<number, string>();
    const nameOf = (id: number): string => {
      const cached = names.get(id);
      if (cached !== undefined) return cached;
      const frame = nodes.get(id);
      let name = `(native) ${frame?.functionName ?? ''}`;
      if (frame?.url) {
        const entry = mapFor(frame.url)?.findEntry(frame.lineNumber, frame.columnNumber) as
          { originalSource?: string } | undefined;
        const path = entry?.originalSource ?? (frame.url.startsWith('file://') ? fileURLToPath(frame.url) : frame.url);
        name = sourceName(path.replace(/^file:\/\//, ''), root);
      }
      names.set(id, name);
      return name;
    };
    profile.samples.forEach((id, index) => {
      const delta = profile.timeDeltas[index] ?? 0;
      if (nodes.get(id)?.functionName === '(idle)') {
        idle += delta;
        return;
      }
      busy += delta;
      const name = nameOf(id);
      bySource.set(name, (bySource.get(name) ?? 0) + delta);
    });
  }
  const ms = (microseconds: number) => Math.round(microseconds / 1000);
  return {
    busyMs: ms(busy),
    idleMs: ms(idle),
    bySource: [...bySource].sort((a, b) => b[1] - a[1]).map(([source, time]) => ({ source, ms: ms(time) })),
  };
}
