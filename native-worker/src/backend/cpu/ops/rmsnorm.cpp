// RMSNorm over rows of x [rows, dim]: y = x * rstd * w with rstd = 1 / sqrt(mean(x^2) + eps), rstd saved [rows].
// Backward: dx = rstd * (w*dy) - x * rstd^3 / dim * sum(w*dy*x), accumulated into dx.
#include <cmath>

#include "backend/cpu/ops/ops.h"

namespace grove::cpu {

void rmsnorm_forward(ThreadPool& pool, const float* x, const float* w, int rows, int dim, float eps, float* y,
                     float* rstd) {
  pool.parallel_for(rows, [&](size_t b, size_t e) {
    for (size_t r = b; r < e; ++r) {
      const float* xr = x + r * dim;
      float* yr = y + r * dim;
      double ss = 0.0;
      for (int i = 0; i < dim; ++i) ss += static_cast<double>(xr[i]) * xr[i];
      const float rs = 1.0f / std::sqrt(static_cast<float>(ss / dim) + eps);
      rstd[r] = rs;
      for (int i = 0; i < dim; ++i) yr[i] = w[i] * (xr[i] * rs);
    }
  }, 16);
}

void rmsnorm_backward(ThreadPool& pool, const float* dy, const float* x, const float* w, const float* rstd, int rows,
                      int dim, float* dx) {
  pool.parallel_for(rows, [&](size_t b, size_t e) {
    for (size_t r = b; r < e; ++r) {
      const float* xr = x + r * dim;
      const float* dyr = dy + r * dim;
      float* dxr = dx + r * dim;
      const float rs = rstd[r];
      double dot = 0.0;
      for (int i = 0; i < dim; ++i) dot += static_cast<double>(dyr[i]) * w[i] * xr[i];
      const float c = static_cast<float>(dot) * rs * rs * rs / static_cast<float>(dim);
      for (int i = 0; i < dim; ++i) dxr[i] += rs * w[i] * dyr[i] - xr[i] * c;
    }
  }, 16);
}

}  // namespace grove::cpu
