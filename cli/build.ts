/** `npm run build`: bundles every function into dist/<FunctionId>/ with the template's esbuild settings. */
import { buildFunctions } from '../local/lambda/bundle';
import { runMain } from './checks';

runMain(async () => {
  const built = await buildFunctions();
  console.log(`built ${built.join(', ')} into dist/`);
  return 0;
});
