/**
 * The environment variables the bundled code may read although the template's `Environment.Variables`
 * do not set them: the artifact test fails on any other. Exact names, each group with its reason. A new
 * library version that reads a new variable fails the test on purpose: add the variable here only once
 * it is clear that AWS leaves it unset (or the Lambda runtime sets it) and the default is what we want;
 * otherwise set it in serverless.yml.
 *
 * Variables that Node.js reads itself (NODE_TLS_REJECT_UNAUTHORIZED in tls, the module loader's, its
 * bundled undici's) are told apart by the accessing frame (`node:…`) and need no entry.
 */
const group = (reason: string, names: readonly string[]) => names.map((name) => [name, reason] as const);

export const UNSET_IN_AWS: ReadonlyMap<string, string> = new Map([
  // Set by the Lambda runtime in every function (Lambda developer guide, "Defined runtime environment
  // variables"); the reserved ones cannot be set by a template at all.
  ...group('set by the Lambda runtime', [
    '_HANDLER',
    '_X_AMZN_TRACE_ID',
    'AWS_REGION',
    'AWS_DEFAULT_REGION',
    'AWS_EXECUTION_ENV',
    'AWS_LAMBDA_FUNCTION_NAME',
    'AWS_LAMBDA_FUNCTION_MEMORY_SIZE',
    'AWS_LAMBDA_FUNCTION_VERSION',
    'AWS_LAMBDA_INITIALIZATION_TYPE',
    'AWS_LAMBDA_LOG_GROUP_NAME',
    'AWS_LAMBDA_LOG_STREAM_NAME',
    'AWS_LAMBDA_RUNTIME_API',
    'AWS_ACCESS_KEY_ID',
    'AWS_SECRET_ACCESS_KEY',
    'AWS_SESSION_TOKEN',
    'AWS_XRAY_CONTEXT_MISSING',
    'AWS_XRAY_DAEMON_ADDRESS',
    'LAMBDA_TASK_ROOT',
    'LAMBDA_RUNTIME_DIR',
    'TZ',
    'LANG',
    'PATH',
    'NODE_PATH',
  ]),
  // Set by Lambda only for configurations this template does not use: advanced logging controls
  // (LoggingConfig) and Lambda Managed Instances. Unset here as in AWS.
  ...group('set by Lambda only for a configuration the template does not use', [
    'AWS_LAMBDA_LOG_LEVEL',
    'AWS_LAMBDA_LOG_FORMAT',
    'AWS_LAMBDA_MAX_CONCURRENCY',
  ]),
  // Redirections to S3-compatible and local servers (docs/operating.md, "Running against a real or
  // compatible API from your machine"); unset in AWS, where the SDK's own endpoints are meant.
  ...group('local redirection, unset in AWS', [
    'AWS_ENDPOINT_URL_S3',
    'S3_FORCE_PATH_STYLE',
    'AWS_ENDPOINT_URL_SECRETS_MANAGER',
    'AWS_IGNORE_CONFIGURED_ENDPOINT_URLS',
  ]),
  // The config refuses a plain client secret in AWS: it comes from CITRIX_CLIENT_SECRET_ARN.
  ...group('refused in AWS', ['CITRIX_CLIENT_SECRET']),
  // Documented defaults (docs/configuration.md) that the template leaves to the default on purpose:
  // the work area in the same bucket, the hour filter always on, a 600 s page-fetch budget, an Express
  // child's 240 s of fetching.
  ...group('documented default the template leaves out', [
    'WORK_BUCKET',
    'USE_TIME_FILTER',
    'FETCH_BUDGET_SECONDS',
    'EXPRESS_FETCH_SECONDS',
  ]),
  // The AWS SDK for JavaScript v3's optional settings (shared config files in the home directory, retry,
  // checksums, endpoints variants, credential extras): unset, so its defaults apply.
  ...group('AWS SDK setting, default when unset', [
    'AWS_PROFILE',
    'AWS_CONFIG_FILE',
    'AWS_SHARED_CREDENTIALS_FILE',
    'HOME',
    'USERPROFILE',
    'HOMEPATH',
    'HOMEDRIVE',
    'AWS_ACCOUNT_ID',
    'AWS_CREDENTIAL_EXPIRATION',
    'AWS_CREDENTIAL_SCOPE',
    'AWS_AUTH_SCHEME_PREFERENCE',
    'AWS_DEFAULTS_MODE',
    'AWS_DISABLE_CLOCK_SKEW_CORRECTION',
    'AWS_ENABLE_DEFAULT_SOCKET_TIMEOUT_2026',
    'AWS_MAX_ATTEMPTS',
    'AWS_RETRY_MODE',
    'AWS_REQUEST_CHECKSUM_CALCULATION',
    'AWS_RESPONSE_CHECKSUM_VALIDATION',
    'AWS_S3_DISABLE_EXPRESS_SESSION_AUTH',
    'AWS_S3_USE_ARN_REGION',
    'AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED',
    'AWS_USE_DUALSTACK_ENDPOINT',
    'AWS_USE_FIPS_ENDPOINT',
  ]),
  // Powertools' own settings: the code passes the service name and namespace, and the defaults (INFO,
  // no event logging, no sampling, metrics on) are the ones we want. AWS_LAMBDA_BENCHMARK_MODE and
  // AWS_LAMBDA_NODEJS_NO_GLOBAL_AWSLAMBDA are switches of @aws/lambda-invoke-store, which Powertools'
  // commons and the SDK's core bundle.
  ...group('Powertools setting, default when unset', [
    'POWERTOOLS_DEV',
    'POWERTOOLS_LOG_LEVEL',
    'LOG_LEVEL',
    'POWERTOOLS_LOGGER_LOG_EVENT',
    'POWERTOOLS_LOGGER_SAMPLE_RATE',
    'POWERTOOLS_METRICS_DISABLED',
    'POWERTOOLS_METRICS_FUNCTION_NAME',
    'POWERTOOLS_METRICS_NAMESPACE',
    'POWERTOOLS_SERVICE_NAME',
    'ENVIRONMENT',
    'AWS_LAMBDA_BENCHMARK_MODE',
    'AWS_LAMBDA_NODEJS_NO_GLOBAL_AWSLAMBDA',
  ]),
]);
