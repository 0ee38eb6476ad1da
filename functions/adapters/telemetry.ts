import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { LogLevel, MetricDimensions, MetricName, Telemetry } from '../domain/ports.ts';

export const SERVICE = 'citrix-monitor-collector';
/** CloudWatch namespace of the collector's metrics (the dashboard and the lag alarm read them). */
export const NAMESPACE = 'CitrixMonitorCollector';

const UNITS: Record<MetricName, (typeof MetricUnit)[keyof typeof MetricUnit]> = {
  Rows: MetricUnit.Count,
  Pages: MetricUnit.Count,
  Bytes: MetricUnit.Bytes,
  FetchSeconds: MetricUnit.Seconds,
  Retries: MetricUnit.Count,
  Throttles: MetricUnit.Count,
  LagMinutes: MetricUnit.Count,
  PublishedObjects: MetricUnit.Count,
};

/**
 * For the local run and tests: JSON lines to `write` in the shape Powertools writes (`level` in capitals),
 * metrics as log lines. `keys` go into every line (a tenant's id, from {@link Telemetry.withTenant}).
 */
export function jsonLinesTelemetry(
  write: (line: string) => void,
  keys: { readonly tenant?: string } = {},
): Telemetry {
  const log = (message: string, fields: Record<string, unknown> = {}, level: LogLevel = 'info') =>
    write(
      `${JSON.stringify({ level: level.toUpperCase(), timestamp: new Date().toISOString(), service: SERVICE, message, ...keys, ...fields })}\n`,
    );
  return {
    log,
    metric: (name, value, { entity, tenant = keys.tenant } = {}) =>
      log('metric', { metric: name, value, ...(entity ? { entity } : {}), ...(tenant ? { tenant } : {}) }),
    withTenant: (tenant) => jsonLinesTelemetry(write, { ...keys, tenant }),
  };
}

export const silentTelemetry: Telemetry = { log: () => {}, metric: () => {} };

/** One metric's value and the dimensions of its series. */
interface MetricPoint extends MetricDimensions {
  readonly name: MetricName;
  readonly value: number;
}

/**
 * Each metric keeps the series the dashboard and alarms read (by service, or by entity), whatever the
 * tenant; a listed tenant's is also counted in a series of its own (Tenant, or Tenant and Entity).
 */
function addMetric(metrics: Metrics, { name, value, entity, tenant }: MetricPoint): void {
  if (!entity) metrics.addMetric(name, UNITS[name], value);
  else {
    const single = metrics.singleMetric();
    single.addDimension('Entity', entity);
    single.addMetric(name, UNITS[name], value);
  }
  if (tenant) {
    const own = metrics.singleMetric();
    own.addDimensions(entity ? { Tenant: tenant, Entity: entity } : { Tenant: tenant });
    own.addMetric(name, UNITS[name], value);
  }
}

/**
 * A tenant's work logs through a child of the invocation's logger with the tenant appended
 * (`appendKeys`): the child has this invocation's Lambda context and keys, and the tenant never leaks
 * into another tenant's lines or the next invocation's.
 */
function powertoolsLogging(logger: Logger, metrics: Metrics, tenant?: string): Telemetry {
  return {
    log: (message, fields = {}, level = 'info') => logger[level](message, fields),
    metric: (name, value, { entity, tenant: of = tenant } = {}) =>
      addMetric(metrics, { name, value, entity, tenant: of }),
    withTenant: (id) => {
      const child = logger.createChild();
      child.appendKeys({ tenant: id });
      return powertoolsLogging(child, metrics, id);
    },
  };
}

/**
 * In Lambda: Powertools Logger (structured JSON to CloudWatch Logs) and Powertools Metrics (CloudWatch
 * embedded metric format, flushed by the handler's middleware at the end of each invocation).
 */
export function powertoolsTelemetry(): { telemetry: Telemetry; logger: Logger; metrics: Metrics } {
  const logger = new Logger({ serviceName: SERVICE });
  const metrics = new Metrics({ namespace: NAMESPACE, serviceName: SERVICE });
  return { logger, metrics, telemetry: powertoolsLogging(logger, metrics) };
}
