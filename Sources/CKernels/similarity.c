#include "kernels.h"

#if defined(__x86_64__) && defined(__clang__)
__attribute__((target_clones("avx2", "default")))
#endif
int64_t rs_count_similar(const float *restrict dots, const float *restrict reference_norms, int64_t n,
                         float query_norm, float tau) {
    int32_t count = 0;
    for (int64_t j = 0; j < n; j++) {
        float norm = query_norm > reference_norms[j] ? query_norm : reference_norms[j];
        count += dots[j] / (norm + 1e-5f) > tau;
    }
    return count;
}
