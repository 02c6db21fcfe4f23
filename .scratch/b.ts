import { build } from 'esbuild';
import { esbuildOptions } from '/work/wt-exec/local/lambda/bundle';
import { loadTemplate, resourcesOfType } from '/work/wt-exec/local/cloudformation/template';
(async () => {
  const t0 = performance.now();
  const results = await Promise.all(
    resourcesOfType(loadTemplate(), 'AWS::Serverless::Function').map(([id, r]) =>
      build({
        ...esbuildOptions(id, r.Metadata!.BuildProperties as never, '/tmp/exec-bundles'),
        metafile: true,
        write: false,
      }),
    ),
  );
  console.log('ms', performance.now() - t0);
  for (const r of results)
    console.log(
      Object.keys(r.metafile!.inputs).length,
      r.outputFiles!.map((f) => [f.path, f.contents.length]),
    );
})();
