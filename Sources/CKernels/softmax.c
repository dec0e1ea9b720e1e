#include "variants.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

// exp(x) in single precision for x <= 0 (the logits minus their maximum): x = n ln2 + r with
// |r| <= ln2 / 2, the Cephes expf polynomial for e^r (relative error about 1e-7), and 2^n
// put into the exponent bits. Branch-free, so loops calling it vectorise.
static inline float exp_nonpositive(float x) {
    x = x > -87.0f ? x : -87.0f;
    const float magic = 12582912.0f; // 1.5 * 2^23: adding it rounds to an integer
    float n = (x * 1.44269504089f + magic) - magic;
    float r = x - n * 0.693359375f - n * -2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    int32_t bits = ((int32_t)n + 127) << 23;
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    return p * scale;
}

// max and sum of exponentials over the class planes, pixel by pixel.
RS_KERNEL_BODY void softmax_terms(const float *restrict z, int64_t classes, int64_t pixels,
                          float *restrict maxima, float *restrict sums, float *restrict e) {
    for (int64_t p = 0; p < pixels; p++) maxima[p] = z[p];
    for (int64_t k = 1; k < classes; k++) {
        const float *plane = z + k * pixels;
        for (int64_t p = 0; p < pixels; p++) maxima[p] = plane[p] > maxima[p] ? plane[p] : maxima[p];
    }
    for (int64_t p = 0; p < pixels; p++) sums[p] = 0.0f;
    for (int64_t k = 0; k < classes; k++) {
        const float *plane = z + k * pixels;
        float *out = e + k * pixels;
        for (int64_t p = 0; p < pixels; p++) {
            float v = exp_nonpositive(plane[p] - maxima[p]);
            out[p] = v;
            sums[p] += v;
        }
    }
}

RS_KERNEL_BODY void scale_gradient(float *restrict g, int64_t classes, int64_t pixels, const float *restrict per_pixel) {
    for (int64_t k = 0; k < classes; k++) {
        float *plane = g + k * pixels;
        for (int64_t p = 0; p < pixels; p++) plane[p] *= per_pixel[p];
    }
}

// The whole kernel is compiled for each instruction set (its two loops above vectorise; the
// per-pixel loop between them, with its logf call, stays scalar in both).
RS_KERNEL_BODY double softmax_cross_entropy(const float *restrict logits, const int32_t *restrict labels,
                                            const float *restrict factors, int64_t classes, int64_t pixels,
                                            float scale, float *restrict gradient, float *restrict pixel_loss) {
    float *maxima = malloc(sizeof(float) * (size_t)pixels);
    float *sums = malloc(sizeof(float) * (size_t)pixels);
    // The exponentials go straight into the gradient buffer, which then becomes the softmax.
    softmax_terms(logits, classes, pixels, maxima, sums, gradient);
    double total = 0.0;
    for (int64_t p = 0; p < pixels; p++) {
        float f = factors[p];
        float inverse = 1.0f / sums[p];
        if (f == 0.0f) {
            pixel_loss[p] = 0.0f;
            sums[p] = 0.0f; // reused below as the per-pixel gradient factor
            continue;
        }
        int32_t y = labels[p];
        float loss = maxima[p] + logf(sums[p]) - logits[(int64_t)y * pixels + p];
        pixel_loss[p] = loss;
        total += (double)(f * loss);
        // softmax_y - 1 at the label, softmax elsewhere; the factor is applied below.
        gradient[(int64_t)y * pixels + p] -= sums[p];
        sums[p] = f * scale * inverse;
    }
    scale_gradient(gradient, classes, pixels, sums);
    free(maxima);
    free(sums);
    return total;
}

// The variants `rs_softmax_cross_entropy` (dispatch.c) chooses from.
double rs_softmax_cross_entropy_baseline(const float *restrict logits, const int32_t *restrict labels,
                                         const float *restrict factors, int64_t classes, int64_t pixels,
                                         float scale, float *restrict gradient, float *restrict pixel_loss) {
    return softmax_cross_entropy(logits, labels, factors, classes, pixels, scale, gradient, pixel_loss);
}

#if RS_HAVE_AVX2_VARIANT
RS_TARGET_AVX2
double rs_softmax_cross_entropy_avx2(const float *restrict logits, const int32_t *restrict labels,
                                     const float *restrict factors, int64_t classes, int64_t pixels,
                                     float scale, float *restrict gradient, float *restrict pixel_loss) {
    return softmax_cross_entropy(logits, labels, factors, classes, pixels, scale, gradient, pixel_loss);
}
#endif
