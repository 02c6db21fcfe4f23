/**
 * The stack as CloudFormation deploys it: template.yaml plus every nested application it includes
 * from a local file (`AWS::Serverless::Application` with `Location: nested/….yaml`, which `sam build`
 * builds and `sam deploy` uploads). Each nested template is inlined the way its parameters bind it:
 * a nested `Ref` to a parameter becomes the expression the root passes, a nested `${Param}` in a Sub
 * becomes the root's `${Resource}` or `${Resource.Attr}`, the application's Condition and DependsOn
 * apply to every nested resource, and the root's `!GetAtt App.Outputs.X` becomes that output's value.
 * Control tests then read one set of resources, whichever file holds them, and still fail when a
 * control is removed from a nested file.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  loadTemplate,
  parseCloudFormation,
  PROJECT_ROOT,
  TEMPLATE_PATH,
  type CfnResource,
  type CfnTemplate,
} from './template';

const APPLICATION = 'AWS::Serverless::Application';

export interface NestedApplication {
  logicalId: string;
  /** Path of the nested template, relative to the project root. */
  location: string;
}

/** The nested applications of a template whose Location is a file of this project. */
export function nestedApplications(root: CfnTemplate): NestedApplication[] {
  return Object.entries(root.Resources)
    .filter(([, res]) => res.Type === APPLICATION && typeof res.Properties?.Location === 'string')
    .map(([logicalId, res]) => ({ logicalId, location: res.Properties?.Location as string }));
}

type Parameter = { Type: string; Default?: unknown };

/** How one nested parameter reads in the root: the passed expression, or the nested default. */
function boundParameters(
  app: string,
  passed: Record<string, unknown>,
  declared: Record<string, Parameter>,
): Map<string, unknown> {
  for (const name of Object.keys(passed))
    if (!(name in declared)) throw new Error(`${app} passes ${name}, which its template does not declare`);
  const bound = new Map<string, unknown>();
  for (const [name, parameter] of Object.entries(declared)) {
    let value = name in passed ? passed[name] : parameter.Default;
    if (value === undefined) throw new Error(`${app} does not pass ${name}, which has no default`);
    // A list passed as `!Join [',', list]` into a CommaDelimitedList parameter is that list again.
    const join = (value as { 'Fn::Join'?: [string, unknown] })['Fn::Join'];
    if (parameter.Type === 'CommaDelimitedList' && join?.[0] === ',') value = join[1];
    bound.set(name, value);
  }
  return bound;
}

/** The `${…}` text standing for a bound value inside a Fn::Sub. */
function subReference(app: string, name: string, value: unknown): string {
  if (typeof value === 'string' || typeof value === 'number') return String(value);
  const ref = (value as { Ref?: string }).Ref;
  if (typeof ref === 'string') return `\${${ref}}`;
  const getAtt = (value as { 'Fn::GetAtt'?: [string, string] })['Fn::GetAtt'];
  if (getAtt) return `\${${getAtt[0]}.${getAtt[1]}}`;
  const sub = (value as { 'Fn::Sub'?: unknown })['Fn::Sub'];
  if (typeof sub === 'string') return sub;
  throw new Error(`${app}: parameter ${name} is used in a Fn::Sub but bound to ${JSON.stringify(value)}`);
}

function substitute(app: string, value: unknown, bound: Map<string, unknown>): unknown {
  if (Array.isArray(value)) return value.map((item) => substitute(app, item, bound));
  if (value === null || typeof value !== 'object') return value;
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length === 1) {
    const [key, argument] = entries[0] as [string, unknown];
    if (key === 'Ref' && typeof argument === 'string') {
      if (argument === 'AWS::StackName')
        throw new Error(`${app} uses AWS::StackName, which is the nested stack's name: pass the root's as a parameter`);
      return bound.has(argument) ? bound.get(argument) : value;
    }
    if (key === 'Fn::Sub') {
      const [text, variables] =
        typeof argument === 'string' ? [argument, undefined] : (argument as [string, Record<string, unknown>]);
      const local = new Set(Object.keys(variables ?? {}));
      // A parameter bound to a `Fn::Sub [text, variables]` brings its variables into this Sub.
      const brought: Record<string, unknown> = {};
      const rewritten = text.replace(/\$\{([^}!]+)\}/g, (whole, name: string) => {
        if (name === 'AWS::StackName')
          throw new Error(
            `${app} uses AWS::StackName, which is the nested stack's name: pass the root's as a parameter`,
          );
        if (local.has(name) || !bound.has(name)) return whole;
        const value = bound.get(name);
        const sub = (value as { 'Fn::Sub'?: unknown } | null)?.['Fn::Sub'];
        if (!Array.isArray(sub)) return subReference(app, name, value);
        const [boundText, boundVariables] = sub as [string, Record<string, unknown>];
        for (const [variable, variableValue] of Object.entries(boundVariables)) {
          const clash = local.has(variable) || (variable in brought && brought[variable] !== variableValue);
          if (clash) throw new Error(`${app}: parameter ${name} brings variable ${variable}, which is already used`);
          brought[variable] = variableValue;
        }
        return boundText;
      });
      const merged = { ...(substitute(app, variables ?? {}, bound) as Record<string, unknown>), ...brought };
      return { 'Fn::Sub': Object.keys(merged).length === 0 ? rewritten : [rewritten, merged] };
    }
  }
  return Object.fromEntries(entries.map(([key, item]) => [key, substitute(app, item, bound)]));
}

/** Replaces the root's `!GetAtt App.Outputs.Name` with the output's (inlined) value. */
function replaceOutputs(value: unknown, outputs: Map<string, unknown>): unknown {
  if (Array.isArray(value)) return value.map((item) => replaceOutputs(item, outputs));
  if (value === null || typeof value !== 'object') return value;
  const getAtt = (value as { 'Fn::GetAtt'?: [string, string] })['Fn::GetAtt'];
  if (getAtt && outputs.has(`${getAtt[0]}.${getAtt[1]}`)) return outputs.get(`${getAtt[0]}.${getAtt[1]}`);
  return Object.fromEntries(
    Object.entries(value as Record<string, unknown>).map(([key, item]) => [key, replaceOutputs(item, outputs)]),
  );
}

const asArray = (dependsOn: string | string[] | undefined): string[] =>
  dependsOn === undefined ? [] : Array.isArray(dependsOn) ? dependsOn : [dependsOn];

/** One template holding the root's resources and every nested application's, as deployed. */
export function inlineNestedApplications(root: CfnTemplate, projectRoot: string): CfnTemplate {
  const resources: Record<string, CfnResource> = { ...root.Resources };
  const conditions: Record<string, unknown> = { ...(root.Conditions ?? {}) };
  const outputs = new Map<string, unknown>();
  const members = new Map<string, string[]>();

  for (const { logicalId: app, location } of nestedApplications(root)) {
    const application = root.Resources[app] as CfnResource;
    const nested = parseCloudFormation<CfnTemplate & { Transform?: unknown }>(
      readFileSync(resolve(projectRoot, location), 'utf8'),
    );
    if (nested.Transform !== undefined)
      throw new Error(`${location} uses a transform; nested layers are plain CloudFormation`);
    const bound = boundParameters(
      app,
      (application.Properties?.Parameters ?? {}) as Record<string, unknown>,
      (nested.Parameters ?? {}) as Record<string, Parameter>,
    );
    delete resources[app];

    for (const [name, definition] of Object.entries(nested.Conditions ?? {})) {
      const inlined = substitute(app, definition, bound);
      if (name in conditions && JSON.stringify(conditions[name]) !== JSON.stringify(inlined))
        throw new Error(`${location} condition ${name} differs from the root's`);
      conditions[name] = inlined;
    }
    const ids: string[] = [];
    for (const [id, res] of Object.entries(nested.Resources)) {
      if (id in resources)
        throw new Error(`${location} resource ${id} collides with a resource of the root or another layer`);
      if (res.Condition !== undefined && application.Condition !== undefined)
        throw new Error(`${location} ${id}: a conditional resource in a conditional layer`);
      const inlined = substitute(app, res, bound) as CfnResource;
      const dependsOn = [...asArray(inlined.DependsOn), ...asArray(application.DependsOn)];
      resources[id] = {
        ...inlined,
        ...(application.Condition === undefined ? {} : { Condition: application.Condition }),
        ...(dependsOn.length === 0 ? {} : { DependsOn: dependsOn.length === 1 ? (dependsOn[0] as string) : dependsOn }),
      };
      ids.push(id);
    }
    members.set(app, ids);
    for (const [name, output] of Object.entries((nested.Outputs ?? {}) as Record<string, { Value: unknown }>)) {
      outputs.set(`${app}.Outputs.${name}`, substitute(app, output.Value, bound));
    }
  }

  // Waiting for a nested stack means waiting for every resource in it.
  for (const [id, res] of Object.entries(resources)) {
    const dependsOn = asArray(res.DependsOn);
    if (!dependsOn.some((name) => members.has(name))) continue;
    resources[id] = { ...res, DependsOn: dependsOn.flatMap((name) => members.get(name) ?? [name]) };
  }
  return replaceOutputs({ ...root, Conditions: conditions, Resources: resources }, outputs) as CfnTemplate;
}

/** template.yaml with its nested applications inlined: every resource the stack deploys, in one view. */
export function loadStackTemplate(path = TEMPLATE_PATH): CfnTemplate {
  return inlineNestedApplications(loadTemplate(path), PROJECT_ROOT);
}
