/**
 * Deploy parameters (deploy/params.cjs): `serverless package` as a deploy runs it, offline and without AWS
 * credentials, on a copy of the service in a temporary directory whose params/<stage>.yml each test writes.
 * A copy because serverless-esbuild bundles in the service's own .esbuild/ and .serverless/ folders: two
 * packages of one directory at once (here, or beside template.test.ts) would share them.
 */
import { execFile } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../functions/domain/config.ts';
import { BadConfiguration } from '../../functions/domain/errors.ts';

const ROOT = resolve(import.meta.dirname, '../..');
/** What packaging reads: the configuration, the plugin, the handlers and the state machine. */
const SERVICE = ['serverless.yml', 'package.json', 'tsconfig.json', 'deploy', 'functions', 'statemachine'];
const dirs: string[] = [];

type Template = { Resources: Record<string, { Type: string; Properties: Record<string, unknown> }> };
type Packaged = { code: number; output: string; template: Template | null; serverlessDir: string[] };

/** A copy of the service whose params/ holds only `stageFiles` (stage name → the file's text). */
function service(stageFiles: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'citrix-collector-params-'));
  dirs.push(dir);
  for (const name of SERVICE) cpSync(join(ROOT, name), join(dir, name), { recursive: true });
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  mkdirSync(join(dir, 'params'));
  for (const [stage, text] of Object.entries(stageFiles))
    writeFileSync(join(dir, 'params', `${stage}.yml`), text);
  return dir;
}

/** `npx serverless package --stage STAGE --package DIR/out ...args` in `dir`: its exit code, output and template. */
function packageStage(dir: string, stage: string, args: string[] = []): Promise<Packaged> {
  const env: NodeJS.ProcessEnv = { ...process.env, SLS_TELEMETRY_DISABLED: '1' };
  for (const name of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_PROFILE'])
    delete env[name];
  const out = join(dir, 'out');
  return new Promise((done) => {
    execFile(
      'npx',
      ['serverless', 'package', '--stage', stage, '--package', out, ...args],
      { cwd: dir, env, timeout: 240_000 },
      (error, stdout, stderr) => {
        const file = join(out, 'cloudformation-template-update-stack.json');
        const serverlessDir = join(dir, '.serverless');
        done({
          serverlessDir: existsSync(serverlessDir) ? readdirSync(serverlessDir) : [],
          code: error ? Number(error.code ?? 1) : 0,
          output: `${stdout}${stderr}`.replace(/\s+/g, ' '),
          template: existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : null,
        });
      },
    );
  });
}

/** Each function's environment, by logical id. */
function environments(packaged: Packaged): Record<string, Record<string, unknown>> {
  if (!packaged.template) throw new Error(`packaging failed (exit ${packaged.code}): ${packaged.output}`);
  return Object.fromEntries(
    Object.entries(packaged.template.Resources)
      .filter(([, r]) => r.Type === 'AWS::Lambda::Function')
      .map(([id, r]) => [id, (r.Properties.Environment as { Variables: Record<string, unknown> }).Variables]),
  );
}

afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('packaging a stage that is not configured yet', () => {
  let nothing: Packaged;
  let halfACustomer: Packaged;
  let misspelt: Packaged;
  let copied: Packaged;
  let subjectLeft: Packaged;

  beforeAll(async () => {
    [nothing, halfACustomer, misspelt, copied, subjectLeft] = await Promise.all([
      packageStage(service({}), 'prod'),
      packageStage(service({ prod: 'customerId: c-1\n' }), 'prod'),
      packageStage(service({ prod: 'custmerId: c-1\nclientId: client-1\n' }), 'prod'),
      // The README's second deploy step, `cp params/example.yml params/prod.yml`, with the editing forgotten.
      packageStage(service({ prod: readFileSync(join(ROOT, 'params/example.yml'), 'utf8') }), 'prod'),
      packageStage(
        service({
          prod: 'customerId: c-1\nclientId: client-1\nsecopsSubjectId: YOUR_SUBJECT_ID_FROM_THE_FEED_FORM\n',
        }),
        'prod',
      ),
    ]);
  }, 240_000);

  it('fails, naming customerId, clientId and tenantList and the stage file to set them in', () => {
    expect(nothing.code).toBe(1);
    expect(nothing.output).toContain(
      `Deploy parameters: Stage "prod" names no Citrix customer and no tenant list: set customerId and clientId (Citrix Cloud > Identity and Access Management > API Access) in params/prod.yml (or --param "NAME=VALUE"), or set tenantList: 'true' there if the tenants come from the tenant list in the bucket (docs/many-tenants.md, "The tenant list").`,
    );
    expect(nothing.template).toBeNull();
  });

  it('fails naming clientId when only customerId is set', () => {
    expect(halfACustomer.code).toBe(1);
    expect(halfACustomer.output).toContain(
      'Deploy parameters: customerId is set but clientId is empty for stage "prod": set clientId in params/prod.yml',
    );
    expect(halfACustomer.template).toBeNull();
  });

  it('refuses params/example.yml copied unedited, naming each placeholder left', () => {
    expect(copied.code).toBe(1);
    expect(copied.output).toContain(
      "Deploy parameters: params/prod.yml still holds the example's placeholders (customerId: YOUR_CUSTOMER_ID, clientId: YOUR_API_CLIENT_ID): replace each with your own value, or delete its line.",
    );
    expect(copied.output).toContain('customerId is the Citrix Cloud customer ID');
    expect(copied.template).toBeNull();
  });

  it('names a placeholder left in another line alone, without the customer IDs that are set', () => {
    expect(subjectLeft.code).toBe(1);
    expect(subjectLeft.output).toContain(
      "params/prod.yml still holds the example's placeholders (secopsSubjectId: YOUR_SUBJECT_ID_FROM_THE_FEED_FORM): replace each with your own value, or delete its line.",
    );
    expect(subjectLeft.output).not.toContain('customerId is the Citrix Cloud customer ID');
    expect(subjectLeft.template).toBeNull();
  });

  it('refuses a stage file setting a name that is not a parameter, naming the one it most likely means', () => {
    expect(misspelt.code).toBe(1);
    expect(misspelt.output).toContain(
      'Deploy parameters: params/prod.yml sets "custmerId", which is not a deploy parameter (did you mean customerId?). The parameters are the names under params.default in serverless.yml: bucketName, clientSecretArn, customerId, clientId,',
    );
    expect(misspelt.template).toBeNull();
  });
});

describe('a stage file, which every redeploy reads again', () => {
  const SUBJECT = '123456789012345678901';
  const first = [
    'customerId: c-1',
    'clientId: client-1',
    'apiBase: https://api-eu.cloud.com',
    'entities: Sessions,Connections',
    'alarmEmail: ops@example.com',
    '',
  ].join('\n');
  let before: Packaged;
  let after: Packaged;
  let listed: Packaged;

  beforeAll(async () => {
    [before, after, listed] = await Promise.all([
      packageStage(service({ prod: first }), 'prod'),
      // The redeploy made only to connect SecOps: one line added to the same file.
      packageStage(service({ prod: `${first}secopsSubjectId: '${SUBJECT}'\n` }), 'prod'),
      packageStage(service({ eu: "tenantList: 'true'\napiBase: https://api-eu.cloud.com\n" }), 'eu', [
        '--param',
        'apiBase=https://api.citrixcloud.jp',
      ]),
    ]);
  }, 400_000);

  it('deploys the parameters of the file', () => {
    expect(Object.values(environments(before))).toContainEqual(
      expect.objectContaining({
        CITRIX_CUSTOMER_ID: 'c-1',
        CITRIX_CLIENT_ID: 'client-1',
        API_BASE: 'https://api-eu.cloud.com',
        ENTITIES: 'Sessions,Connections',
      }),
    );
    expect(before.template?.Resources.AlarmEmailSubscription?.Properties.Endpoint).toBe('ops@example.com');
  });

  it('keeps every other parameter when a redeploy adds secopsSubjectId', () => {
    expect(environments(after)).toEqual(environments(before));
    expect(after.template?.Resources.AlarmEmailSubscription?.Properties.Endpoint).toBe('ops@example.com');
    // The reader role trusts the subject (and exists only when one is given: condition HasSecopsSubject).
    expect(JSON.stringify(before.template?.Resources.SecopsReaderRole)).not.toContain(SUBJECT);
    expect(JSON.stringify(after.template?.Resources.SecopsReaderRole)).toContain(SUBJECT);
  });

  it("packages a stage without a customer when tenantList is 'true'", () => {
    expect(listed.code).toBe(0);
    for (const variables of Object.values(environments(listed)))
      expect(variables.CITRIX_CUSTOMER_ID).toBe('');
  });

  it('takes --param over the stage file, for one deploy', () => {
    for (const variables of Object.values(environments(listed)))
      expect(variables.API_BASE).toBe('https://api.citrixcloud.jp');
  });
});

/** The message a deployed run refuses `settings` with, the rest of its environment being fine. */
function runRefuses(settings: Record<string, string>): string {
  const deployed = {
    S3_BUCKET: 'citrix-monitor-logs',
    CITRIX_CUSTOMER_ID: 'c-1',
    CITRIX_CLIENT_ID: 'client-1',
    CITRIX_CLIENT_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:citrix-AbCdEf',
  };
  try {
    loadConfig({ ...deployed, ...settings }, true);
  } catch (error) {
    if (error instanceof BadConfiguration) return error.message;
    throw error;
  }
  throw new Error(`a run accepts ${JSON.stringify(settings)}`);
}

describe('packaging a stage with a parameter a run would refuse', () => {
  const customer = 'customerId: c-1\nclientId: client-1\n';
  let bucket: Packaged;
  let entity: Packaged;
  let windowInFile: Packaged;
  let windowOnCli: Packaged;
  let apiBase: Packaged;
  let misspeltParam: Packaged;
  let emptyEntities: Packaged;

  beforeAll(async () => {
    const stage = (text: string, args: string[] = []) =>
      packageStage(service({ prod: `${customer}${text}` }), 'prod', args);
    [bucket, entity, windowInFile, windowOnCli, apiBase, misspeltParam, emptyEntities] = await Promise.all([
      stage('bucketName: My-Citrix-Bucket\n'),
      stage('entities: Sessions,Sesions\n'),
      stage('windowMinutes: 45\n'),
      stage('', ['--param', 'windowMinutes=7']),
      stage('', ['--param', 'apiBase=api-eu.cloud.com']),
      stage('', ['--param=windowMinute=5']),
      stage("entities: ''\n"),
    ]);
  }, 240_000);

  /** Exit 1, the run's message, and nothing written: no template in the package folder or .serverless/. */
  function refusedAsRunWould(packaged: Packaged, message: string): void {
    expect(packaged.code, packaged.output).toBe(1);
    expect(packaged.output).toContain(`Deploy parameters: ${message}`);
    expect(packaged.output).not.toContain('Cannot resolve variable');
    expect(packaged.template).toBeNull();
    expect(packaged.serverlessDir.filter((name) => name.startsWith('cloudformation-template'))).toEqual([]);
  }

  it('refuses a bucket name S3 would refuse, as a run does, naming bucketName', () => {
    refusedAsRunWould(bucket, runRefuses({ S3_BUCKET: 'My-Citrix-Bucket' }));
    expect(bucket.output).toContain('Set by bucketName (S3_BUCKET, in params/prod.yml).');
  });

  it('refuses a misspelt entity with the one it most likely means, as a run does', () => {
    refusedAsRunWould(entity, runRefuses({ ENTITIES: 'Sessions,Sesions' }));
    expect(entity.output).toContain('did you mean Sessions?');
  });

  it('refuses a window size with the sizes it takes, before serverless looks up its schedule', () => {
    refusedAsRunWould(windowInFile, runRefuses({ WINDOW_MINUTES: '45' }));
    refusedAsRunWould(windowOnCli, runRefuses({ WINDOW_MINUTES: '7' }));
    expect(windowOnCli.output).toContain('Set by windowMinutes (WINDOW_MINUTES, from --param).');
  });

  it('refuses an API base that is a host name without https://, as a run does', () => {
    refusedAsRunWould(apiBase, runRefuses({ API_BASE: 'api-eu.cloud.com' }));
  });

  it('refuses an entities line left empty rather than deploying the five defaults', () => {
    refusedAsRunWould(emptyEntities, runRefuses({ ENTITIES: '' }));
  });

  it('refuses a --param that is not a parameter, naming the one it most likely means', () => {
    refusedAsRunWould(
      misspeltParam,
      '--param "windowMinute=…" is not a deploy parameter (did you mean windowMinutes?): serverless would ignore it and deploy the default.',
    );
  });
});
