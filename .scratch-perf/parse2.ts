import { filterExpression } from '../functions/shared/adapters/findings-repository';
// eslint-disable-next-line
const p = require('dynalite/db/conditionParser'); const db = require('dynalite/db');
const f = filterExpression({ status: 'OPEN', workflows: ['NEW', 'ACKNOWLEDGED'], now: new Date().toISOString() })!;
console.log(f.expression);
const { marshall } = require('@aws-sdk/util-dynamodb');
const vals = marshall(f.values);
const ctx = () => ({ attrNames: f.names, attrVals: vals, unusedAttrNames: {}, unusedAttrVals: {}, isReserved: () => false, compare: db.compare });
const t = process.hrtime.bigint(); const n = 5; let r;
for (let i = 0; i < n; i++) r = p.parse(f.expression, { context: ctx() });
console.log((Number(process.hrtime.bigint() - t) / 1e6 / n).toFixed(1), 'ms', r.type);
