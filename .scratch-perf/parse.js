const p = require('dynalite/db/conditionParser'); const db = require('dynalite/db');
const exprs = {
  nested: 'attribute_not_exists(#VulnID) OR ((attribute_not_exists(#Status) OR #Status = :open) AND #LastSeen <= :scannedAt)',
  flatParens: 'attribute_not_exists(#VulnID) OR (attribute_not_exists(#Status) AND #LastSeen <= :scannedAt) OR (#Status = :open AND #LastSeen <= :scannedAt)',
  flat: 'attribute_not_exists(#VulnID) OR attribute_not_exists(#Status) AND #LastSeen <= :scannedAt OR #Status = :open AND #LastSeen <= :scannedAt',
  simple: 'attribute_not_exists(#VulnID)',
};
for (const [k, e] of Object.entries(exprs)) {
  const ctx = () => ({ attrNames: { '#VulnID': 'VulnID', '#Status': 'Status', '#LastSeen': 'LastSeen' }, attrVals: { ':open': { S: 'OPEN' }, ':scannedAt': { S: '2026' } }, unusedAttrNames: {}, unusedAttrVals: {}, isReserved: () => false, compare: db.compare });
  const t = process.hrtime.bigint(); let n = 300; let r;
  for (let i = 0; i < n; i++) r = p.parse(e, { context: ctx() });
  console.log(k, (Number(process.hrtime.bigint() - t) / 1e6 / n).toFixed(3), 'ms', typeof r === 'string' ? r : r.type);
}
