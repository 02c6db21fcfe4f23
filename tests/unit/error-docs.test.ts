/** docs/errors.md is the error table, written out: the two cannot drift. */
import { readFileSync } from 'node:fs';
import { ERROR_ANSWERS } from '../../functions/shared/core/errors';
import { errorsMarkdown, ERRORS_DOC_PATH } from '../../api/error-docs';

test('docs/errors.md is what the error table generates (run npm run generate:model)', () => {
  expect(readFileSync(ERRORS_DOC_PATH, 'utf8')).toBe(errorsMarkdown());
});

test('it lists every status of the table with its message', () => {
  const text = errorsMarkdown();
  for (const row of Object.values(ERROR_ANSWERS)) expect(text).toContain(`| ${row.status} | ${row.message} |`);
});
