/**
 * Reads template.yaml with CloudFormation's short-form tags understood (`!Ref`, `!GetAtt`, `!Sub`,
 * …) as their long form (`{ Ref: … }`, `{ 'Fn::GetAtt': [...] }`), so tests and the local stack
 * read the one template instead of repeating what it says.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse, type ScalarTag, type CollectionTag } from 'yaml';

export const PROJECT_ROOT = resolve(__dirname, '..', '..');
export const TEMPLATE_PATH = resolve(PROJECT_ROOT, 'template.yaml');

const FUNCTIONS = [
  'Base64',
  'Cidr',
  'FindInMap',
  'GetAZs',
  'ImportValue',
  'Join',
  'Select',
  'Split',
  'Sub',
  'Transform',
  'And',
  'Equals',
  'If',
  'Not',
  'Or',
  'Contains',
  'Length',
  'ToJsonString',
];

function cloudFormationTags(): (ScalarTag | CollectionTag)[] {
  const tags: (ScalarTag | CollectionTag)[] = [];
  const fullName = (name: string) => (name === 'Ref' || name === 'Condition' ? name : `Fn::${name}`);
  for (const name of [...FUNCTIONS, 'Ref', 'Condition', 'GetAtt']) {
    const key = fullName(name);
    tags.push({
      tag: `!${name}`,
      // `!GetAtt A.B.C` is [A, 'B.C'] (a nested stack's `Outputs.Name`): split at the first dot only.
      resolve: (value: string) => ({
        [key]: name === 'GetAtt' ? [value.slice(0, value.indexOf('.')), value.slice(value.indexOf('.') + 1)] : value,
      }),
    } as ScalarTag);
    for (const collection of ['seq', 'map'] as const) {
      tags.push({
        tag: `!${name}`,
        collection,
        resolve: (value: { toJSON: () => unknown }) => ({ [key]: value.toJSON() }),
      } as unknown as CollectionTag);
    }
  }
  return tags;
}

export type CfnValue = unknown;
export interface CfnResource {
  Type: string;
  Properties?: Record<string, CfnValue>;
  Metadata?: Record<string, CfnValue>;
  Condition?: string;
  DeletionPolicy?: string;
  UpdateReplacePolicy?: string;
  DependsOn?: string | string[];
}
export interface CfnTemplate {
  Parameters?: Record<string, { Type: string; Default?: unknown; [key: string]: unknown }>;
  Conditions?: Record<string, CfnValue>;
  Globals?: Record<string, Record<string, CfnValue>>;
  Resources: Record<string, CfnResource>;
  Outputs?: Record<string, CfnValue>;
}

export function parseCloudFormation<T = CfnTemplate>(text: string): T {
  return parse(text, { customTags: cloudFormationTags(), maxAliasCount: -1 }) as T;
}

let cached: CfnTemplate | undefined;
/** The project's template.yaml, parsed once per process. */
export function loadTemplate(path = TEMPLATE_PATH): CfnTemplate {
  if (path !== TEMPLATE_PATH) return parseCloudFormation(readFileSync(path, 'utf8'));
  const template = cached ?? parseCloudFormation<CfnTemplate>(readFileSync(path, 'utf8'));
  cached = template;
  return template;
}

export function resourcesOfType(template: CfnTemplate, type: string): [string, CfnResource][] {
  return Object.entries(template.Resources).filter(([, resource]) => resource.Type === type);
}
