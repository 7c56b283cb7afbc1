// Every baseline, as evaluation runs them: fresh instances with their default settings.
import type { Baseline } from '../policy.ts';
import { istioPolicy } from './istio.ts';
import { linkerdPolicy } from './linkerd.ts';
import { staticPolicy } from './static.ts';

export const BASELINE_NAMES = ['static', 'istio', 'linkerd'] as const;

export function baselines(): Baseline[] {
  return [staticPolicy, istioPolicy(), linkerdPolicy()];
}
