/**
 * What `sam build` changes in the template of esbuild functions, ported from SAM CLI so tests and the
 * local stack see the template SAM deploys, not the one we wrote.
 *
 * Read in aws/aws-sam-cli at commit fe8f8dbb1160abce8ae13e0a4c5f8b456658afd3:
 * - samcli/lib/samlib/resource_metadata_normalizer.py, `ResourceMetadataNormalizer.normalize_build_properties`:
 *   every BuildProperties key becomes snake case (`_` before each capital but the first, then lower case)
 *   before aws-lambda-builders turns it into an esbuild flag (`sourcemap` -> `--sourcemap`).
 * - samcli/lib/build/bundler.py, `EsbuildBundlerManager`, called by samcli/commands/build/build_context.py
 *   (`_handle_build_pre_processing`, `_handle_build_post_processing`) for every function whose
 *   `Metadata.BuildMethod` is `esbuild`:
 *   - `set_sourcemap_metadata_from_env` (before the build): `NODE_OPTIONS` containing `--enable-source-maps`
 *     (a whitespace-separated word; Globals included) and no `Sourcemap` key -> `Sourcemap: true`.
 *   - `_set_sourcemap_env_from_metadata` (in the built template): a truthy `BuildProperties.Sourcemap` (the
 *     exact key, read before normalisation) and no `--enable-source-maps` in `NODE_OPTIONS` (function or
 *     Globals) -> the function's own `NODE_OPTIONS` becomes `"<its own value, or ''> --enable-source-maps"`.
 *     A non-string own `NODE_OPTIONS` is left as it is (SAM logs a warning).
 * There is no way to build maps under the `Sourcemap` key without that variable (aws/aws-sam-cli issues 4727
 * and 6021 ask for one). The lower-case key `sourcemap` normalises to the same esbuild flag, and the check
 * above never reads it: that is how this template ships maps without Node parsing them at init.
 */
import type { CfnResource, CfnTemplate } from './template';

const ENABLE_SOURCE_MAPS = '--enable-source-maps';

/** `ResourceMetadataNormalizer.normalize_build_properties`: `EntryPoints` -> `entry_points`. */
export function normalizeBuildProperties(properties: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(properties).map(([key, value]) => [key.replace(/(?<!^)(?=[A-Z])/g, '_').toLowerCase(), value]),
  );
}

const isEsbuild = (resource: CfnResource) => resource.Metadata?.BuildMethod === 'esbuild';
const buildPropertiesOf = (resource: CfnResource) =>
  (resource.Metadata?.BuildProperties ?? {}) as Record<string, unknown>;
const ownVariables = (resource: CfnResource) =>
  ((resource.Properties?.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ??
    {}) as Record<string, unknown>;

/** The function's `NODE_OPTIONS` as SAM CLI's stack sees it: its own, else the Globals' one. */
function nodeOptions(template: CfnTemplate, resource: CfnResource): unknown {
  const globals = (template.Globals?.Function?.Environment as { Variables?: Record<string, unknown> } | undefined)
    ?.Variables;
  return ownVariables(resource).NODE_OPTIONS ?? globals?.NODE_OPTIONS;
}

/** `_is_node_option_set`. SAM CLI resolves intrinsics with the parameter values first; this port refuses them. */
function enablesSourceMaps(logicalId: string, value: unknown): boolean {
  if (value === undefined) return false;
  if (typeof value !== 'string') {
    throw new Error(`${logicalId}: NODE_OPTIONS from an intrinsic function; the port of sam build cannot resolve it`);
  }
  return value.split(/\s+/).includes(ENABLE_SOURCE_MAPS);
}

/** Whether a truthy value, as Python's `if source_map` reads it. */
const pythonTruthy = (value: unknown) =>
  !(value === undefined || value === null || value === false || value === 0 || value === '') &&
  !(Array.isArray(value) && value.length === 0);

/**
 * The template `sam build` writes to .aws-sam/build: the pre-processing (metadata from the environment)
 * and the post-processing (environment from the metadata) of `EsbuildBundlerManager`. The input is not changed.
 */
export function samBuiltTemplate(template: CfnTemplate): CfnTemplate {
  const built = structuredClone(template);
  for (const [logicalId, resource] of Object.entries(built.Resources)) {
    if (!isEsbuild(resource)) continue;
    const properties = buildPropertiesOf(resource);
    const enabled = enablesSourceMaps(logicalId, nodeOptions(built, resource));
    // set_sourcemap_metadata_from_env
    if (!('Sourcemap' in properties) && enabled) {
      resource.Metadata = { ...resource.Metadata, BuildProperties: { ...properties, Sourcemap: true } };
      continue;
    }
    // _set_sourcemap_env_from_metadata
    if (pythonTruthy(properties.Sourcemap) && !enabled) {
      const own = ownVariables(resource);
      const existing = own.NODE_OPTIONS ?? '';
      if (typeof existing !== 'string') continue;
      resource.Properties = {
        ...resource.Properties,
        Environment: {
          ...(resource.Properties?.Environment as object | undefined),
          Variables: { ...own, NODE_OPTIONS: [existing, ENABLE_SOURCE_MAPS].join(' ') },
        },
      };
    }
  }
  return built;
}

/**
 * The esbuild `--sourcemap` value `sam build` passes for a function (aws-lambda-builders'
 * `EsbuildCommandBuilder`: `true` -> `--sourcemap`, a string -> `--sourcemap=<value>`, false/absent -> none),
 * from its normalised BuildProperties.
 */
export function esbuildSourcemap(buildProperties: Record<string, unknown>): boolean | string {
  const value = normalizeBuildProperties(buildProperties).sourcemap;
  if (value === undefined || value === false) return false;
  if (value === true || typeof value === 'string') return value;
  throw new Error(`BuildProperties sourcemap must be a boolean or a string, not ${JSON.stringify(value)}`);
}
