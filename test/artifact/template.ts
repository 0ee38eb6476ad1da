/**
 * What `serverless package` writes, read the way CloudFormation would read it with local values: the
 * template's intrinsic functions resolved against the test's bucket, secret and function ARNs.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const REGION = 'us-east-1';
export const ACCOUNT = '000000000000';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export interface TemplateResource {
  readonly Type: string;
  readonly Condition?: string;
  readonly Properties?: { [key: string]: Json };
}

export interface Template {
  readonly Conditions?: { [name: string]: Json };
  readonly Resources: { [id: string]: TemplateResource };
}

/** One `AWS::Lambda::Function` of the template, with what Lambda and the state machine need of it. */
export interface LambdaFunction {
  /** Logical id, e.g. `PlanLambdaFunction`. */
  readonly id: string;
  readonly functionName: string;
  readonly arn: string;
  /** e.g. `functions/plan.handler`. */
  readonly handler: string;
  /** e.g. `nodejs24.x`. */
  readonly runtime: string;
  readonly timeoutSeconds: number;
  readonly memorySize: number;
  /** File name of the zip in the package directory, from `Code.S3Key`. */
  readonly zip: string;
  /** `Environment.Variables` as written in the template, intrinsics unresolved. */
  readonly variables: { [name: string]: Json };
}

/**
 * Runs `serverless package` into `directory` as CI and a deploy would, offline and without AWS
 * credentials; `params` are `--param` values (the deploy-time parameters of serverless.yml).
 */
export function packageService(directory: string, stage: string, params: Record<string, string>): Template {
  const env: NodeJS.ProcessEnv = { ...process.env, SLS_TELEMETRY_DISABLED: '1' };
  for (const name of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_PROFILE'])
    delete env[name];
  const paramArgs = Object.entries(params).map(([k, v]) => `--param=${k}=${v}`);
  execFileSync('npx', ['serverless', 'package', '--stage', stage, '--package', directory, ...paramArgs], {
    env,
    stdio: 'pipe',
    timeout: 120_000,
  });
  return JSON.parse(readFileSync(join(directory, 'cloudformation-template-update-stack.json'), 'utf8'));
}

const isObject = (value: Json | undefined): value is { [key: string]: Json } =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** The template's Lambda functions, in template order. */
export function lambdaFunctions(template: Template): LambdaFunction[] {
  return Object.entries(template.Resources)
    .filter(([, r]) => r.Type === 'AWS::Lambda::Function')
    .map(([id, r]) => {
      const p = r.Properties ?? {};
      const code = p.Code;
      const environment = p.Environment;
      if (!isObject(code) || typeof code.S3Key !== 'string') throw new Error(`${id} has no Code.S3Key`);
      const functionName = String(p.FunctionName);
      return {
        id,
        functionName,
        arn: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${functionName}`,
        handler: String(p.Handler),
        runtime: String(p.Runtime),
        timeoutSeconds: Number(p.Timeout ?? 3),
        memorySize: Number(p.MemorySize ?? 128),
        zip: code.S3Key.split('/').at(-1) ?? '',
        variables: isObject(environment) && isObject(environment.Variables) ? environment.Variables : {},
      };
    });
}

/** Marks a value that `Ref: AWS::NoValue` removed. */
const NO_VALUE = Symbol('AWS::NoValue');

/**
 * Resolves CloudFormation intrinsics (`Ref`, `Fn::GetAtt`, `Fn::If` with the template's Conditions,
 * `Fn::Sub`, `Fn::Join`, `Fn::Equals`/`Not`/`And`/`Or`) to local values. `refs` gives the physical id
 * of each resource a `Ref` may name (a bucket's name, a secret's ARN); a Lambda function's `Arn` comes
 * from the template. Anything else throws, naming it: a new intrinsic in the template must be taught here
 * rather than pass unresolved.
 */
export function intrinsicResolver(template: Template, refs: Record<string, string>) {
  const functions = new Map(lambdaFunctions(template).map((f) => [f.id, f]));
  const pseudo: Record<string, string> = {
    'AWS::Region': REGION,
    'AWS::AccountId': ACCOUNT,
    'AWS::Partition': 'aws',
    'AWS::URLSuffix': 'amazonaws.com',
  };
  const ref = (name: string): string => {
    const value = pseudo[name] ?? refs[name] ?? functions.get(name)?.functionName;
    if (value === undefined) throw new Error(`Ref ${name}: no local value (add it to the test's refs)`);
    return value;
  };
  const getAtt = (id: string, attribute: string): string => {
    const fn = functions.get(id);
    if (fn && attribute === 'Arn') return fn.arn;
    throw new Error(`Fn::GetAtt ${id}.${attribute}: no local value`);
  };
  const condition = (name: string): boolean => {
    const body = template.Conditions?.[name];
    if (body === undefined) throw new Error(`Condition ${name} is not in the template`);
    return Boolean(resolve(body));
  };
  const sub = (text: string, variables: { [key: string]: Json }): string =>
    text.replace(/\$\{(!?)([^}]*)\}/g, (_, literal: string, name: string) => {
      if (literal) return `\${${name}}`;
      if (name in variables) return String(resolve(variables[name] ?? null));
      if (name.includes('.') && !name.startsWith('AWS::')) {
        const [id = '', ...attribute] = name.split('.');
        return getAtt(id, attribute.join('.'));
      }
      return ref(name);
    });

  function resolve(value: Json): Json | typeof NO_VALUE {
    if (Array.isArray(value)) return value.map(resolve).filter((v): v is Json => v !== NO_VALUE);
    if (!isObject(value)) return value;
    const keys = Object.keys(value);
    const [key] = keys;
    const arg = key === undefined ? null : (value[key] ?? null);
    if (
      keys.length === 1 &&
      key !== undefined &&
      (key === 'Ref' || key === 'Condition' || key.startsWith('Fn::'))
    ) {
      const list = Array.isArray(arg) ? arg : [arg];
      switch (key) {
        case 'Ref':
          return arg === 'AWS::NoValue' ? NO_VALUE : ref(String(arg));
        case 'Condition':
          return condition(String(arg));
        case 'Fn::GetAtt': {
          const [id, attribute] = typeof arg === 'string' ? arg.split('.') : list.map(String);
          return getAtt(String(id), String(attribute));
        }
        case 'Fn::If':
          return resolve((condition(String(list[0])) ? list[1] : list[2]) ?? null);
        case 'Fn::Equals':
          return JSON.stringify(resolve(list[0] ?? null)) === JSON.stringify(resolve(list[1] ?? null));
        case 'Fn::Not':
          return !resolve(list[0] ?? null);
        case 'Fn::And':
          return list.every((c) => Boolean(resolve(c)));
        case 'Fn::Or':
          return list.some((c) => Boolean(resolve(c)));
        case 'Fn::Sub': {
          const [text, variables] = typeof arg === 'string' ? [arg, {}] : [list[0], list[1]];
          return sub(String(text), isObject(variables ?? null) ? (variables as { [key: string]: Json }) : {});
        }
        case 'Fn::Join': {
          const [delimiter, items] = list;
          const resolved = resolve(items ?? []);
          if (!Array.isArray(resolved)) throw new Error('Fn::Join: expected a list');
          return resolved.map(String).join(String(delimiter));
        }
        default:
          throw new Error(`${key}: not resolved locally (teach test/artifact/template.ts)`);
      }
    }
    const out: { [key: string]: Json } = {};
    for (const k of keys) {
      const v = resolve(value[k] ?? null);
      if (v !== NO_VALUE) out[k] = v;
    }
    return out;
  }

  return {
    /** A template value with every intrinsic resolved. */
    resolve(value: Json): Json {
      const out = resolve(value);
      if (out === NO_VALUE) throw new Error('the value is AWS::NoValue');
      return out;
    },
    /** A function's `Environment.Variables`, resolved to strings as Lambda sets them. */
    environment(fn: LambdaFunction): Record<string, string> {
      return Object.fromEntries(
        Object.entries(fn.variables).flatMap(([name, v]) => {
          const out = resolve(v);
          return out === NO_VALUE ? [] : [[name, String(out)]];
        }),
      );
    },
  };
}

/** The state machine's definition as deployed: its `DefinitionString` with every `${…}` resolved. */
export function stateMachineDefinition(template: Template, refs: Record<string, string> = {}): unknown {
  const machines = Object.values(template.Resources).filter(
    (r) => r.Type === 'AWS::StepFunctions::StateMachine',
  );
  const [machine] = machines;
  if (!machine || machines.length !== 1)
    throw new Error(`expected one state machine, found ${machines.length}`);
  const text = intrinsicResolver(template, refs).resolve(machine.Properties?.DefinitionString ?? null);
  if (typeof text !== 'string') throw new Error('DefinitionString did not resolve to a string');
  return JSON.parse(text);
}
