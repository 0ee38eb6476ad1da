'use strict';
/**
 * Deploy parameters that a redeploy keeps, and a deploy that cannot go out half-configured (README, "Deploy in
 * five steps"; docs/deploying.md, "Deploying").
 *
 * 1. `params/<stage>.yml`, when it exists, becomes the stage's `params.<stage>` section: serverless takes a
 *    parameter from `--param name=value` first, then from that file, then from `params.default` in
 *    serverless.yml. The file holds plain values (no `${…}` variables) and only names that `params.default`
 *    declares, so a typo is refused rather than silently deployed as the default.
 * 2. Before `package` (which `deploy` runs) and before a `deploy --package DIR`, the stage file must hold
 *    none of params/example.yml's placeholders (YOUR_…), and the resolved parameters
 *    (custom.deployParams) must name a customer (customerId and clientId) or say that the tenants come from
 *    the tenant list in the bucket (tenantList: 'true'): the list is in S3, which packaging cannot see.
 * 3. The environment the stack gives the functions passes every check a run makes of it
 *    (checkDeployment, functions/domain/config.ts: the settings' own parsers and the run's cross-checks),
 *    and a refusal says what the run would say, naming the deploy parameters behind the variables. One
 *    validation for deploy and run: packaging accepts nothing a run refuses.
 *
 * Names are checked when the plugin is constructed, before serverless resolves any variable: a
 * `--param` that is not a parameter (serverless would ignore it and deploy the default), and
 * windowMinutes, from which `params.default.schedule` is looked up (custom.schedules): a window size
 * without a schedule would otherwise stop serverless at a variable it cannot resolve, a message that
 * names neither the parameter nor the sizes it takes.
 *
 * The settings are the collector's own TypeScript modules: Node 24, which osls runs on here, strips
 * their types and loads an ES module graph without top-level await through require().
 *
 * A serverless plugin because a params section's key cannot be a variable (`params.${sls:stage}`), and the
 * "param" source reads `params.<stage>` from the configuration after plugins are constructed
 * (osls lib/configuration/variables/sources/instance-dependent/param.js).
 */
const { existsSync } = require('node:fs');
const path = require('node:path');
const { checkDeployment } = require('../functions/domain/config.ts');
const { BadConfiguration } = require('../functions/domain/errors.ts');
const { closest } = require('../functions/domain/settings/entities.ts');
const { value } = require('../functions/domain/settings/readers.ts');
const S = require('../functions/domain/settings/registry.ts');

/** How params/example.yml writes a value the operator must replace: YOUR_CUSTOMER_ID, YOUR_API_CLIENT_ID. */
const EXAMPLE_PLACEHOLDER = /^YOUR_[A-Z0-9_]+$/;

/** Where a customer's two IDs are found, for the messages that ask for them. */
const CUSTOMER_IDS =
  'customerId is the Citrix Cloud customer ID and clientId the ID of its API client (Citrix Cloud > Identity and Access Management > API Access).';

const isPlainObject = (value) => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * What a run reads for a variable that CloudFormation sets to a resource the stack creates when its
 * parameter is empty (`!If [CreateBucket, !Ref CollectorBucket, '${param:bucketName}']`): a value of the
 * kind the stack's resource has, so that the run's checks pass it as they will pass the real one.
 */
const CREATED_BY_THE_STACK = {
  S3_BUCKET: 'citrix-monitor-collector-bucket',
  CITRIX_CLIENT_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:000000000000:secret:created-by-the-stack',
};

/** `--param` values as serverless reads them ("name=value", the value trimmed at its end), by name. */
function cliParams(options) {
  const given = {};
  for (const item of [options.param ?? []].flat()) {
    const match = /^(?<name>[^=]+)=(?<value>.+)$/s.exec(String(item));
    // Leave a malformed one to serverless, which refuses it with the format it expects.
    if (match?.groups) given[match.groups.name] = match.groups.value.trimEnd();
  }
  return given;
}

class DeployParams {
  constructor(serverless, options) {
    this.serverless = serverless;
    const configuration = serverless.configurationInput;
    this.stage = String(options.stage ?? configuration.provider?.stage ?? 'dev');
    this.file = path.join('params', `${this.stage}.yml`);
    /** The stage file's lines still holding params/example.yml's placeholders (YOUR_CUSTOMER_ID, …). */
    this.placeholders = [];
    this.declared = Object.keys(configuration.params?.default ?? {});
    this.cli = cliParams(options);
    this.checkCliNames();
    this.fromFile = this.loadStageFile(configuration);
    this.checkWindow({ ...configuration.params?.default, ...this.fromFile, ...this.cli });
    const check = () => this.check();
    this.hooks = { 'before:package:initialize': check, 'before:deploy:deploy': check };
  }

  /** Reads params/<stage>.yml into `params.<stage>`, refusing names that serverless.yml does not declare. */
  loadStageFile(configuration) {
    const file = path.join(this.serverless.serviceDir, this.file);
    if (!existsSync(file)) return {};
    const values = this.serverless.utils.readFileSync(file) ?? {};
    if (!isPlainObject(values)) throw this.error(`${this.file} must be a mapping of name: value lines.`);
    const declared = this.declared;
    const fromFile = {};
    for (const [name, value] of Object.entries(values)) {
      if (!declared.includes(name)) {
        throw this.error(
          `${this.file} sets "${name}", which is not a deploy parameter${this.meant(name)}. The parameters are the names under params.default in serverless.yml: ${declared.join(', ')}.`,
        );
      }
      if (isPlainObject(value) || Array.isArray(value)) {
        throw this.error(`${this.file}: ${name} must be a single value (quote it: ${name}: '…').`);
      }
      // serverless.yml's defaults are strings ('1000', 'true'): a bare 1000 or true in the file means the same.
      if (value !== null && value !== undefined) fromFile[name] = String(value);
      if (EXAMPLE_PLACEHOLDER.test(String(value ?? ''))) this.placeholders.push(`${name}: ${value}`);
    }
    configuration.params = { ...configuration.params };
    configuration.params[this.stage] = { ...fromFile, ...configuration.params[this.stage] };
    return fromFile;
  }

  /** ` (did you mean NAME?)` for the parameter a name that is not one most likely means; else nothing. */
  meant(name) {
    const meant = closest(name, this.declared, 3);
    return meant ? ` (did you mean ${meant}?)` : '';
  }

  /** Refuses a `--param` that is not a parameter, which serverless would ignore and deploy the default. */
  checkCliNames() {
    for (const name of Object.keys(this.cli)) {
      if (this.declared.includes(name)) continue;
      throw this.error(
        `--param "${name}=…" is not a deploy parameter${this.meant(name)}: serverless would ignore it and deploy the default. The parameters are the names under params.default in serverless.yml: ${this.declared.join(', ')}.`,
      );
    }
  }

  /**
   * Refuses a window size before serverless looks its schedule up (params.default.schedule), with the
   * run's message: a size without a schedule would stop it at a variable it cannot resolve.
   */
  checkWindow(given) {
    this.asRunWould(() => value({ WINDOW_MINUTES: given.windowMinutes }, S.WINDOW_MINUTES));
  }

  /** Runs `check`, a run's check, turning its refusal into this plugin's error with the run's message. */
  asRunWould(check) {
    try {
      check();
    } catch (error) {
      if (!(error instanceof BadConfiguration)) throw error;
      throw this.error(`${error.message} ${this.setBy(error.message)}`.trim());
    }
  }

  /** Which deploy parameters set the variables a run's message names, and where each was given. */
  setBy(message) {
    const named = S.SETTINGS.filter(
      (s) => s.param && this.declared.includes(s.param) && new RegExp(`\\b${s.name}\\b`).test(message),
    );
    if (named.length === 0) return '';
    const origin = (param) => {
      if (param in this.cli) return 'from --param';
      return param in this.fromFile ? `in ${this.file}` : "serverless.yml's default";
    };
    return `Set by ${named.map((s) => `${s.param} (${s.name}, ${origin(s.param)})`).join(', ')}.`;
  }

  /**
   * The environment the stack gives every function, as a run reads it: a variable CloudFormation sets to
   * the stack's own resource when its parameter is empty reads as such a resource's name.
   */
  deployedEnvironment() {
    const environment = this.serverless.service.provider.environment ?? {};
    const env = {};
    for (const [name, value] of Object.entries(environment)) {
      const chosen = isPlainObject(value) ? value['Fn::If']?.[2] : value;
      env[name] = chosen === '' || chosen == null ? (CREATED_BY_THE_STACK[name] ?? '') : String(chosen);
    }
    const given = this.serverless.service.custom?.deployParams ?? {};
    return { ...env, [S.LAG_ALARM_HOURS.name]: given.lagAlarmHours };
  }

  /**
   * Refuses a package or deploy with example placeholders, with neither a customer nor a tenant list, or
   * with a setting a run would refuse: in that order, each mistake's own message before the next check.
   */
  check() {
    this.checkPlaceholders();
    this.checkTenants();
    this.asRunWould(() => checkDeployment(this.deployedEnvironment()));
  }

  checkPlaceholders() {
    if (this.placeholders.length === 0) return;
    const customer = this.placeholders.some((line) => /^(customerId|clientId):/.test(line))
      ? ` ${CUSTOMER_IDS}`
      : '';
    throw this.error(
      `${this.file} still holds the example's placeholders (${this.placeholders.join(', ')}): replace each with your own value, or delete its line.${customer}`,
    );
  }

  /** A customer (customerId and clientId), or tenantList: 'true' for the tenant list in the bucket. */
  checkTenants() {
    const given = this.serverless.service.custom?.deployParams ?? {};
    const set = (name) => typeof given[name] === 'string' && given[name].trim() !== '';
    const tenantList = set('tenantList') ? given.tenantList.trim() : 'false';
    const where = `in ${this.file} (or --param "NAME=VALUE")`;
    if (tenantList !== 'true' && tenantList !== 'false') {
      throw this.error(`tenantList is "${tenantList}": set it to 'true' or 'false' ${where}.`);
    }
    const missing = ['customerId', 'clientId'].filter((name) => !set(name));
    if (missing.length === 0 || (missing.length === 2 && tenantList === 'true')) return;
    if (missing.length === 1) {
      const [absent] = missing;
      const present = absent === 'customerId' ? 'clientId' : 'customerId';
      throw this.error(
        `${present} is set but ${absent} is empty for stage "${this.stage}": set ${absent} ${where}. ${CUSTOMER_IDS}`,
      );
    }
    throw this.error(
      `Stage "${this.stage}" names no Citrix customer and no tenant list: set customerId and clientId (Citrix Cloud > Identity and Access Management > API Access) ${where}, or set tenantList: 'true' there if the tenants come from the tenant list in the bucket (docs/many-tenants.md, "The tenant list").`,
    );
  }

  error(message) {
    return new this.serverless.classes.Error(`Deploy parameters: ${message}`, 'DEPLOY_PARAMS');
  }
}

module.exports = DeployParams;
