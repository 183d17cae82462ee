/**
 * Online weighted least squares with a ridge penalty toward zero, for the small (2–4 coefficient) corrections the
 * memory and throughput models fit from telemetry. Only the normal equations are kept (O(d²) memory, O(1) per sample),
 * so the fit can be refreshed after every measurement without storing the samples.
 */
export class RidgeLeastSquares {
  private readonly xtx: Float64Array;
  private readonly xty: Float64Array;
  private yty = 0;
  private weightSum = 0;
  private solved: Float64Array | null = null;

  constructor(
    readonly dimension: number,
    /** Penalty on ‖θ‖²; keeps θ near 0 (the analytic prior) until enough samples disagree with it. */
    private readonly lambda: number,
  ) {
    this.xtx = new Float64Array(dimension * dimension);
    this.xty = new Float64Array(dimension);
  }

  get sampleWeight(): number {
    return this.weightSum;
  }

  add(x: readonly number[], y: number, weight = 1): void {
    if (x.length !== this.dimension) throw new RangeError(`expected ${this.dimension} features, got ${x.length}`);
    if (!Number.isFinite(y) || !(weight > 0) || x.some((v) => !Number.isFinite(v))) {
      throw new RangeError('least-squares sample must be finite with a positive weight');
    }
    const d = this.dimension;
    for (let i = 0; i < d; i++) {
      this.xty[i] += weight * x[i] * y;
      for (let j = 0; j < d; j++) this.xtx[i * d + j] += weight * x[i] * x[j];
    }
    this.yty += weight * y * y;
    this.weightSum += weight;
    this.solved = null;
  }

  /** θ minimising Σ w (y − θ·x)² + λ‖θ‖²; all zeros before any sample. */
  coefficients(): Float64Array {
    if (this.solved) return this.solved;
    const d = this.dimension;
    const a = new Float64Array(d * d);
    for (let i = 0; i < d * d; i++) a[i] = this.xtx[i];
    for (let i = 0; i < d; i++) a[i * d + i] += this.lambda;
    this.solved = solveLinearSystem(a, Float64Array.from(this.xty), d);
    return this.solved;
  }

  /** Weighted root-mean-square residual of the current fit (0 before any sample). */
  rmse(): number {
    if (this.weightSum === 0) return 0;
    const theta = this.coefficients();
    const d = this.dimension;
    let quad = 0;
    let lin = 0;
    for (let i = 0; i < d; i++) {
      lin += theta[i] * this.xty[i];
      for (let j = 0; j < d; j++) quad += theta[i] * this.xtx[i * d + j] * theta[j];
    }
    return Math.sqrt(Math.max(0, this.yty - 2 * lin + quad) / this.weightSum);
  }
}

/** Gaussian elimination with partial pivoting; `a` is row-major d×d and is overwritten. */
function solveLinearSystem(a: Float64Array, b: Float64Array, d: number): Float64Array {
  for (let col = 0; col < d; col++) {
    let pivot = col;
    for (let r = col + 1; r < d; r++) if (Math.abs(a[r * d + col]) > Math.abs(a[pivot * d + col])) pivot = r;
    if (Math.abs(a[pivot * d + col]) < 1e-300) throw new RangeError('singular least-squares system');
    if (pivot !== col) {
      for (let c = 0; c < d; c++) [a[col * d + c], a[pivot * d + c]] = [a[pivot * d + c], a[col * d + c]];
      [b[col], b[pivot]] = [b[pivot], b[col]];
    }
    for (let r = col + 1; r < d; r++) {
      const f = a[r * d + col] / a[col * d + col];
      if (f === 0) continue;
      for (let c = col; c < d; c++) a[r * d + c] -= f * a[col * d + c];
      b[r] -= f * b[col];
    }
  }
  const x = new Float64Array(d);
  for (let r = d - 1; r >= 0; r--) {
    let s = b[r];
    for (let c = r + 1; c < d; c++) s -= a[r * d + c] * x[c];
    x[r] = s / a[r * d + r];
  }
  return x;
}
