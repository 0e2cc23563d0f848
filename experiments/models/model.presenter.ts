import type { ModelRow } from './model.queries.ts';

/** A registered model as the API shows it. */
export function presentModel(m: ModelRow) {
  return {
    id: m.id,
    name: m.name,
    path: m.path,
    architecture: m.architecture,
    parameters: m.parameters,
    weightBytes: m.weightBytes,
    weightsSha256: m.weightsSha256,
    shape: m.shape,
    status: m.status,
    statusReason: m.statusReason,
    checkedAt: m.checkedAt.toISOString(),
    registeredBy: m.registeredBy,
    registeredAt: m.registeredAt.toISOString(),
  };
}

/** "124M", "1.1B", "35K": a parameter count as people say it. */
export function formatParameters(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(n >= 1e10 ? 0 : 1)}B`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(n >= 1e7 ? 0 : 1)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(n >= 1e4 ? 0 : 1)}K`;
  return String(n);
}
