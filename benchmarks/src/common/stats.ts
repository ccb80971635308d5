/** The p-th percentile (0-100) by nearest rank; NaN for no samples. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] as number;
}

export function mean(values: readonly number[]): number {
  return values.length === 0 ? Number.NaN : values.reduce((a, b) => a + b, 0) / values.length;
}

export const round = (value: number, digits = 2): number => {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
};

export interface LinearFit {
  /** y per unit of x. */
  slope: number;
  intercept: number;
  /** Standard error of the slope (NaN under three points). */
  slopeStdError: number;
  r2: number;
  n: number;
}

/** Ordinary least squares of y on x: one sample's garbage collection moves it less than a two-point slope. */
export function leastSquares(points: readonly (readonly [number, number])[]): LinearFit {
  const n = points.length;
  const mx = mean(points.map((p) => p[0]));
  const my = mean(points.map((p) => p[1]));
  const sxx = points.reduce((a, [x]) => a + (x - mx) ** 2, 0);
  const sxy = points.reduce((a, [x, y]) => a + (x - mx) * (y - my), 0);
  const syy = points.reduce((a, [, y]) => a + (y - my) ** 2, 0);
  const slope = sxx > 0 ? sxy / sxx : 0;
  const intercept = my - slope * mx;
  const residual = points.reduce((a, [x, y]) => a + (y - intercept - slope * x) ** 2, 0);
  return {
    slope,
    intercept,
    slopeStdError: n > 2 && sxx > 0 ? Math.sqrt(residual / (n - 2) / sxx) : Number.NaN,
    r2: syy > 0 ? 1 - residual / syy : 0,
    n,
  };
}
