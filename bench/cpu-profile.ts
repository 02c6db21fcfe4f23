/**
 * `npm run bench -- --cpu-prof DIR`: a V8 CPU profile of the bench's own main thread (gateway,
 * state machine interpreter, invoker and the bench clients) through the inspector, next to the
 * ones each execution environment and the DynamoDB-API server write (`--cpu-prof` in their own
 * threads and process). Open them in Chrome DevTools or summarize them with `npm run bench:profile`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { join } from 'node:path';

export async function startMainThreadProfile(dir: string): Promise<() => Promise<string>> {
  const session = new Session();
  session.connect();
  const post = (method: string, params: Record<string, unknown> = {}) =>
    new Promise<unknown>((resolve, reject) =>
      session.post(method, params, (error, result) => (error ? reject(error) : resolve(result))),
    );
  await post('Profiler.enable');
  await post('Profiler.start');
  return async () => {
    const { profile } = (await post('Profiler.stop')) as { profile: unknown };
    session.disconnect();
    const out = join(dir, 'main');
    mkdirSync(out, { recursive: true });
    const file = join(out, `main-${process.pid}.cpuprofile`);
    writeFileSync(file, JSON.stringify(profile));
    return file;
  };
}
