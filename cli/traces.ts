/**
 * `npm run traces -- [--last 5] [--org org1] [--principal-ou dashboard] [--decision DENY] [--dir .local/traces]`:
 * the newest traces the local stack recorded, as waterfalls in the terminal (the same rows as the trace page).
 */
import { parseArgs } from 'node:util';
import { readTraceStore } from '../local/xray/store';
import { DEFAULT_TRACES_DIR } from '../local/xray/tracing';
import { tracesReport } from '../local/xray/waterfall';

const { values } = parseArgs({
  options: {
    last: { type: 'string', default: '5' },
    org: { type: 'string' },
    'principal-ou': { type: 'string' },
    decision: { type: 'string' },
    'finding-count': { type: 'string' },
    dir: { type: 'string', default: DEFAULT_TRACES_DIR },
  },
});

const last = Number(values.last);
if (!Number.isInteger(last) || last < 1) {
  console.error('--last takes a positive whole number');
  process.exit(2);
}
const filters = Object.fromEntries(
  Object.entries({
    org: values.org,
    principalOu: values['principal-ou'],
    decision: values.decision,
    findingCount: values['finding-count'],
  }).filter((entry): entry is [string, string] => entry[1] !== undefined),
);
console.log(tracesReport(readTraceStore(values.dir).all(), { last, filters }));
