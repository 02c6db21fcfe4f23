/** `npm run events`: writes events/ (see tests/support/events.ts for what each file is); re-running it changes nothing. */
import { EVENTS_DIR, writeEventFiles } from '../tests/support/events';
import { runMain } from './checks';

runMain(async () => {
  const names = await writeEventFiles();
  console.log(`wrote ${names.join(', ')} into ${EVENTS_DIR}`);
  return 0;
});
