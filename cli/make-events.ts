/** `npm run events`: writes events/ (see tests/support/events.ts for what each file is). */
import { mkdir, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { buildEventFiles, EVENTS_DIR } from '../tests/support/events';
import { runMain } from './checks';

runMain(async () => {
  const files = await buildEventFiles();
  await mkdir(EVENTS_DIR, { recursive: true });
  for (const [name, content] of Object.entries(files)) await writeFile(resolve(EVENTS_DIR, name), content);
  console.log(`wrote ${Object.keys(files).join(', ')} into ${EVENTS_DIR}`);
  return 0;
});
