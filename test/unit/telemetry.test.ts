import { describe, expect, it } from 'vitest';
import { jsonLinesTelemetry } from '../../functions/adapters/telemetry.ts';

/** The lines `npm run collect -- --verbose` and `npm start` write, parsed. */
function lines(): { written: Array<Record<string, unknown>>; write: (line: string) => void } {
  const written: Array<Record<string, unknown>> = [];
  return { written, write: (line) => written.push(JSON.parse(line) as Record<string, unknown>) };
}

describe('jsonLinesTelemetry', () => {
  it('writes a warning at WARN and a failure at ERROR, and anything else at INFO', () => {
    const out = lines();
    const telemetry = jsonLinesTelemetry(out.write);

    telemetry.log('retrying a Citrix request', { request: 'page 3' }, 'warn');
    telemetry.log('FetchPages failed', { error: 'CitrixBadQuery' }, 'error');
    telemetry.log('entity fetched');

    expect(out.written.map((l) => [l.level, l.message])).toEqual([
      ['WARN', 'retrying a Citrix request'],
      ['ERROR', 'FetchPages failed'],
      ['INFO', 'entity fetched'],
    ]);
  });

  it("puts a listed tenant's id in each of its lines and metrics, and in no other tenant's", () => {
    const out = lines();
    const telemetry = jsonLinesTelemetry(out.write);
    const acme = telemetry.withTenant?.('acme');

    acme?.log('Citrix answered 429; waiting', {}, 'warn');
    acme?.metric('Rows', 5, { entity: 'Sessions' });
    telemetry.log('tenants planned');

    expect(out.written).toEqual([
      expect.objectContaining({ level: 'WARN', message: 'Citrix answered 429; waiting', tenant: 'acme' }),
      expect.objectContaining({ message: 'metric', metric: 'Rows', entity: 'Sessions', tenant: 'acme' }),
      expect.not.objectContaining({ tenant: expect.anything() }),
    ]);
  });
});
