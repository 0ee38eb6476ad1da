/**
 * The configuration table of docs/configuration.md, made from the settings registry: tooling for the docs
 * and the test that checks them, not part of the product.
 */
import { SETTINGS, type Setting } from '../../functions/domain/settings/registry.ts';

/** A setting's default as docs/configuration.md shows it. */
function shownDefault(s: Setting): string {
  if (s.shown !== undefined) return s.shown;
  if (s.required) return '(required)';
  if (!s.default) return '(none)';
  return `\`${s.default.replace(/\{([A-Z0-9_]+)\}/g, (_, name: string) => `\${${name}}`)}\``;
}

/** The configuration table (docs/configuration.md): a row per setting, its variable, default and meaning. */
export function settingsTable(): string {
  const rows = SETTINGS.map((s) => `| \`${s.name}\` | ${shownDefault(s)} | ${s.meaning} |`);
  return ['| Variable | Default | Meaning |', '|---|---|---|', ...rows].join('\n');
}
