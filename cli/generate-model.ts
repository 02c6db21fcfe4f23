/** `npm run generate:model`: writes the request model into api/openapi.yaml and docs/errors.md from the error table. */
import { readFileSync, writeFileSync } from 'node:fs';
import { errorsMarkdown, ERRORS_DOC_PATH } from '../api/error-docs';
import { OPENAPI_PATH, withGeneratedModel } from '../api/request-model';
import { runMain } from './checks';

runMain(async () => {
  writeFileSync(OPENAPI_PATH, withGeneratedModel(readFileSync(OPENAPI_PATH, 'utf8')));
  writeFileSync(ERRORS_DOC_PATH, errorsMarkdown());
  console.log(`wrote the request model into ${OPENAPI_PATH} and the error table into ${ERRORS_DOC_PATH}`);
  return 0;
});
