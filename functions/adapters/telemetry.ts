import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { MetricName, Telemetry } from '../domain/ports.ts';

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

/** For the local run and tests: JSON lines to `write`, metrics as log lines. */
export function jsonLinesTelemetry(write: (line: string) => void): Telemetry {
  const log = (message: string, fields: Record<string, unknown> = {}) =>
    write(
      `${JSON.stringify({ level: 'INFO', timestamp: new Date().toISOString(), service: SERVICE, message, ...fields })}\n`,
    );
  return {
    log,
    metric: (name, value, entity, tenant) =>
      log('metric', { metric: name, value, ...(entity ? { entity } : {}), ...(tenant ? { tenant } : {}) }),
  };
}

export const silentTelemetry: Telemetry = { log: () => {}, metric: () => {} };

/**
 * In Lambda: Powertools Logger (structured JSON to CloudWatch Logs) and Powertools Metrics (CloudWatch
 * embedded metric format, flushed by the handler's middleware at the end of each invocation).
 */
export function powertoolsTelemetry(): { telemetry: Telemetry; logger: Logger; metrics: Metrics } {
  const logger = new Logger({ serviceName: SERVICE });
  const metrics = new Metrics({ namespace: NAMESPACE, serviceName: SERVICE });
  return {
    logger,
    metrics,
    telemetry: {
      log: (message, fields = {}) => logger.info(message, fields),
      // Each metric keeps the series the dashboard and alarms read (by service, or by entity), whatever
      // the tenant; a listed tenant's is also counted in a series of its own (Tenant, or Tenant and Entity).
      metric: (name, value, entity, tenant) => {
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
      },
    },
  };
}
