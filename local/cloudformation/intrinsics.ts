/**
 * Resolves the CloudFormation intrinsic functions the local stack meets (Ref, Fn::GetAtt, Fn::Sub,
 * Fn::Join, Fn::If, Fn::Select, Fn::Split) against local values, so the template and the OpenAPI document are
 * read as they are instead of being copied into local configuration.
 */
import { LOCAL_ACCOUNT, LOCAL_PARTITION, LOCAL_REGION } from '../aws-local';
import type { CfnTemplate } from './template';

export interface LocalReferences {
  /** Value of `Ref X` for resources (and parameter overrides). */
  refs: Record<string, string>;
  /** Value of `Fn::GetAtt [X, Attr]` keyed "X.Attr". */
  attributes: Record<string, string>;
}

const PSEUDO: Record<string, string> = {
  'AWS::Region': LOCAL_REGION,
  'AWS::AccountId': LOCAL_ACCOUNT,
  'AWS::Partition': LOCAL_PARTITION,
  'AWS::StackName': 'local',
  // The form CloudFormation gives a stack id (names use its UUID's first block to be new per stack).
  'AWS::StackId': `arn:${LOCAL_PARTITION}:cloudformation:${LOCAL_REGION}:${LOCAL_ACCOUNT}:stack/local/10ca1000-0000-4000-8000-000000000000`,
  'AWS::URLSuffix': 'amazonaws.com',
};

export class LocalResolver {
  constructor(
    private readonly template: CfnTemplate,
    readonly references: LocalReferences,
  ) {}

  private ref(name: string): unknown {
    if (name === 'AWS::NoValue') return undefined;
    if (name in PSEUDO) return PSEUDO[name];
    if (name in this.references.refs) return this.references.refs[name];
    const parameter = this.template.Parameters?.[name];
    if (parameter && 'Default' in parameter) return parameter.Default;
    throw new Error(`The local stack cannot resolve Ref ${name}`);
  }

  private getAtt(name: string, attribute: string): string {
    const value = this.references.attributes[`${name}.${attribute}`];
    if (value === undefined) throw new Error(`The local stack cannot resolve Fn::GetAtt ${name}.${attribute}`);
    return value;
  }

  private sub(text: string, variables: Record<string, unknown>): string {
    return text.replace(/\$\{([^}!]+)\}/g, (_, name: string) => {
      if (name in variables) return String(variables[name]);
      const dot = name.indexOf('.');
      return dot > 0 && !name.startsWith('AWS::')
        ? this.getAtt(name.slice(0, dot), name.slice(dot + 1))
        : String(this.ref(name));
    });
  }

  private condition(name: string): boolean {
    const value = this.resolve(this.template.Conditions?.[name]);
    if (typeof value !== 'boolean') throw new Error(`The local stack cannot evaluate condition ${name}`);
    return value;
  }

  resolve(value: unknown): unknown {
    // An item resolved to AWS::NoValue is left out of a list, as CloudFormation does.
    if (Array.isArray(value)) return value.map((item) => this.resolve(item)).filter((item) => item !== undefined);
    if (value === null || typeof value !== 'object') return value;
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 1) {
      const [key, argument] = entries[0] as [string, unknown];
      switch (key) {
        case 'Ref':
          return this.ref(argument as string);
        case 'Fn::GetAtt': {
          const [name, attribute] = Array.isArray(argument) ? (argument as string[]) : String(argument).split('.', 2);
          return this.getAtt(name as string, attribute as string);
        }
        case 'Fn::Sub': {
          if (typeof argument === 'string') return this.sub(argument, {});
          const [text, variables] = argument as [string, Record<string, unknown>];
          return this.sub(text, this.resolve(variables) as Record<string, unknown>);
        }
        case 'Fn::Join': {
          const [separator, items] = argument as [string, unknown[]];
          return (this.resolve(items) as unknown[]).join(separator);
        }
        case 'Fn::Split': {
          const [separator, text] = argument as [string, unknown];
          return String(this.resolve(text)).split(separator);
        }
        case 'Fn::Select': {
          const [index, items] = argument as [number, unknown[]];
          return (this.resolve(items) as unknown[])[Number(index)];
        }
        case 'Fn::If': {
          const [condition, whenTrue, whenFalse] = argument as [string, unknown, unknown];
          return this.resolve(this.condition(condition) ? whenTrue : whenFalse);
        }
        case 'Fn::Equals': {
          const [left, right] = this.resolve(argument) as [unknown, unknown];
          return String(left) === String(right);
        }
        case 'Fn::Not':
          return !(this.resolve((argument as unknown[])[0]) as boolean);
        case 'Fn::And':
          return (argument as unknown[]).every((item) => this.resolve(item) === true);
        case 'Fn::Or':
          return (argument as unknown[]).some((item) => this.resolve(item) === true);
        case 'Condition':
          return this.condition(argument as string);
        default:
          break;
      }
    }
    // A property resolved to AWS::NoValue is left out, as CloudFormation does.
    return Object.fromEntries(
      entries.map(([key, item]) => [key, this.resolve(item)]).filter(([, item]) => item !== undefined),
    );
  }
}
