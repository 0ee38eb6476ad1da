'use strict';
/**
 * Deploy parameters that a redeploy keeps, and a deploy that cannot go out half-configured (README, "Deploy").
 *
 * 1. `params/<stage>.yml`, when it exists, becomes the stage's `params.<stage>` section: serverless takes a
 *    parameter from `--param name=value` first, then from that file, then from `params.default` in
 *    serverless.yml. The file holds plain values (no `${…}` variables) and only names that `params.default`
 *    declares, so a typo is refused rather than silently deployed as the default.
 * 2. Before `package` (which `deploy` runs) and before a `deploy --package DIR`, the stage file must hold
 *    none of params/example.yml's placeholders (YOUR_…), and the resolved parameters
 *    (custom.deployParams) must name a customer (customerId and clientId) or say that the tenants come from
 *    the tenant list in the bucket (tenantList: 'true'): the list is in S3, which packaging cannot see.
 *
 * A serverless plugin because a params section's key cannot be a variable (`params.${sls:stage}`), and the
 * "param" source reads `params.<stage>` from the configuration after plugins are constructed
 * (osls lib/configuration/variables/sources/instance-dependent/param.js).
 */
const { existsSync } = require('node:fs');
const path = require('node:path');

/** How params/example.yml writes a value the operator must replace: YOUR_CUSTOMER_ID, YOUR_API_CLIENT_ID. */
const EXAMPLE_PLACEHOLDER = /^YOUR_[A-Z0-9_]+$/;

/** Where a customer's two IDs are found, for the messages that ask for them. */
const CUSTOMER_IDS =
  'customerId is the Citrix Cloud customer ID and clientId the ID of its API client (Citrix Cloud > Identity and Access Management > API Access).';

const isPlainObject = (value) => typeof value === 'object' && value !== null && !Array.isArray(value);

class DeployParams {
  constructor(serverless, options) {
    this.serverless = serverless;
    const configuration = serverless.configurationInput;
    this.stage = String(options.stage ?? configuration.provider?.stage ?? 'dev');
    this.file = path.join('params', `${this.stage}.yml`);
    /** The stage file's lines still holding params/example.yml's placeholders (YOUR_CUSTOMER_ID, …). */
    this.placeholders = [];
    this.loadStageFile(configuration);
    const check = () => this.check();
    this.hooks = { 'before:package:initialize': check, 'before:deploy:deploy': check };
  }

  /** Reads params/<stage>.yml into `params.<stage>`, refusing names that serverless.yml does not declare. */
  loadStageFile(configuration) {
    const file = path.join(this.serverless.serviceDir, this.file);
    if (!existsSync(file)) return;
    const values = this.serverless.utils.readFileSync(file) ?? {};
    if (!isPlainObject(values)) throw this.error(`${this.file} must be a mapping of name: value lines.`);
    const declared = Object.keys(configuration.params?.default ?? {});
    const fromFile = {};
    for (const [name, value] of Object.entries(values)) {
      if (!declared.includes(name)) {
        throw this.error(
          `${this.file} sets "${name}", which is not a deploy parameter. The parameters are the names under params.default in serverless.yml: ${declared.join(', ')}.`,
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
  }

  /** Refuses a package or deploy with example placeholders, or with neither a customer nor a tenant list. */
  check() {
    if (this.placeholders.length > 0) {
      const customer = this.placeholders.some((line) => /^(customerId|clientId):/.test(line))
        ? ` ${CUSTOMER_IDS}`
        : '';
      throw this.error(
        `${this.file} still holds the example's placeholders (${this.placeholders.join(', ')}): replace each with your own value, or delete its line.${customer}`,
      );
    }
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
      `Stage "${this.stage}" names no Citrix customer and no tenant list: set customerId and clientId (Citrix Cloud > Identity and Access Management > API Access) ${where}, or set tenantList: 'true' there if the tenants come from the tenant list in the bucket (README, "Many tenants").`,
    );
  }

  error(message) {
    return new this.serverless.classes.Error(`Deploy parameters: ${message}`, 'DEPLOY_PARAMS');
  }
}

module.exports = DeployParams;
