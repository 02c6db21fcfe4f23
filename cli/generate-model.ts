/** `npm run generate:model`: writes the request model generated from the zod schema into api/openapi.yaml. */
import { readFileSync, writeFileSync } from 'node:fs';
import { OPENAPI_PATH, withGeneratedModel } from '../api/request-model';
import { runMain } from './checks';

runMain(async () => {
  writeFileSync(OPENAPI_PATH, withGeneratedModel(readFileSync(OPENAPI_PATH, 'utf8')));
  console.log(`wrote the request model into ${OPENAPI_PATH}`);
  return 0;
});
