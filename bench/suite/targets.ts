// Targets are ratios of two figures from the same run, so a slow or busy machine moves both sides.
import type { Results, Settings, TargetSpec } from './types.js';

const rate = (r: Results, id: string): number | null => r.points.get(id)?.requestsPerSec ?? null;

/** numerator req/s >= min x denominator req/s (shown as a percentage when min < 1, else as "x"). */
export function ratioTarget(what: string, numerator: string, denominator: string | ((s: Settings) => string), min: number): TargetSpec {
  return {
    what,
    evaluate: (r, s) => {
      const num = rate(r, numerator);
      const den = rate(r, typeof denominator === 'string' ? denominator : denominator(s));
      if (num === null || den === null || den === 0) return null;
      const ratio = num / den;
      const shown = min < 1 ? `${(ratio * 100).toFixed(0)}%` : `${ratio.toFixed(2)}x`;
      return { measured: `${shown} (${Math.round(num).toLocaleString('en-US')} vs ${Math.round(den).toLocaleString('en-US')} req/s)`, pass: ratio >= min };
    },
  };
}
