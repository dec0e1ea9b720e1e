#include "variants.h"

RS_KERNEL_BODY int64_t count_similar(const float *restrict dots, const float *restrict reference_norms, int64_t n,
                                     float query_norm, float tau) {
    int32_t count = 0;
    for (int64_t j = 0; j < n; j++) {
        float norm = query_norm > reference_norms[j] ? query_norm : reference_norms[j];
        count += dots[j] / (norm + 1e-5f) > tau;
    }
    return count;
}

// The variants `rs_count_similar` (dispatch.c) chooses from.
int64_t rs_count_similar_baseline(const float *restrict dots, const float *restrict reference_norms, int64_t n,
                                  float query_norm, float tau) {
    return count_similar(dots, reference_norms, n, query_norm, tau);
}

#if RS_HAVE_AVX2_VARIANT
RS_TARGET_AVX2
int64_t rs_count_similar_avx2(const float *restrict dots, const float *restrict reference_norms, int64_t n,
                              float query_norm, float tau) {
    return count_similar(dots, reference_norms, n, query_norm, tau);
}
#endif
