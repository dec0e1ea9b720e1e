#include "variants.h"

#include <stddef.h>

// The transforms of a one-dimensional Winograd convolution F(4, 3) along the width, on oneDNN's
// channel-blocked float32 layout `[N][C / B][H][W][B]` (B = 8 or 16; C a multiple of B).
//
// A 3-tap correlation along the width with padding 1, y[w] = Σ_k g[k] x[w - 1 + k], computes
// four outputs y[4t .. 4t + 3] of tile t from six inputs d[j] = x[4t - 1 + j] (zero outside the
// row) as
//
//     y = Aᵀ [(G g) ⊙ (Bᵀ d)]
//
// with the interpolation points 0, ±1, ±2 and ∞ (Lavin and Gray, "Fast Algorithms for
// Convolutional Neural Networks", 2016):
//
//     Bᵀ = [4  0 -5  0  1  0]     G = [ 1/4     0     0 ]     Aᵀ = [1  1  1  1  1  0]
//          [0 -4 -4  1  1  0]         [-1/6  -1/6  -1/6 ]          [0  1 -1  2 -2  0]
//          [0  4 -4 -1  1  0]         [-1/6   1/6  -1/6 ]          [0  1  1  4  4  0]
//          [0 -2 -1  2  1  0]         [1/24  1/12   1/6 ]          [0  1 -1  8 -8  1]
//          [0  2 -1 -2  1  0]         [1/24 -1/12   1/6 ]
//          [0  4  0 -5  0  1]         [ 0     0     1   ]
//
// The six products of a tile are six independent convolutions that no longer slide along the
// width: a convolution with kernel kh x 3 becomes a grouped one with kernel kh x 1 over six groups
// (component ξ of every tile in group ξ), which oneDNN runs in its jit kernels. Here are the four
// transforms around it: the input's (V = Bᵀ d), the output's (y = Aᵀ M), and for the backward
// passes their transposes (dM = A dy, dx = B dV). The weights' transforms (G g and Gᵀ dU) are
// tiny and done in Swift.
//
// Tiled tensors are `[N][6 C / B][H][T][B]`, T = ceil(W / 4) tiles, component ξ of channel c being
// channel ξ C + c: row (n, channel block cb, h) of component ξ starts `ξ (C / B) H T B` floats
// after component 0's.

RS_KERNEL_BODY void input_row(const float *restrict x, int64_t width, int64_t tiles, const int B,
                              float *restrict v, int64_t component) {
    for (int64_t t = 0; t < tiles; t++) {
        const int64_t first = 4 * t - 1;
        float d[6][16];
        if (first >= 0 && first + 6 <= width) {
            for (int j = 0; j < 6; j++)
                for (int l = 0; l < B; l++) d[j][l] = x[(first + j) * B + l];
        } else {
            for (int j = 0; j < 6; j++) {
                const int64_t w = first + j;
                for (int l = 0; l < B; l++) d[j][l] = w >= 0 && w < width ? x[w * B + l] : 0.0f;
            }
        }
        float *o = v + t * B;
        for (int l = 0; l < B; l++) {
            o[0 * component + l] = 4.0f * d[0][l] - 5.0f * d[2][l] + d[4][l];
            o[1 * component + l] = -4.0f * (d[1][l] + d[2][l]) + d[3][l] + d[4][l];
            o[2 * component + l] = 4.0f * (d[1][l] - d[2][l]) - d[3][l] + d[4][l];
            o[3 * component + l] = 2.0f * (d[3][l] - d[1][l]) - d[2][l] + d[4][l];
            o[4 * component + l] = 2.0f * (d[1][l] - d[3][l]) - d[2][l] + d[4][l];
            o[5 * component + l] = 4.0f * d[1][l] - 5.0f * d[3][l] + d[5][l];
        }
    }
}

RS_KERNEL_BODY void output_row(const float *restrict m, int64_t tiles, int64_t width, const int B,
                               int64_t component, const struct rs_winograd_epilogue *restrict after,
                               const float *restrict a0, const float *restrict a1, float *restrict y) {
    for (int64_t t = 0; t < tiles; t++) {
        const float *p = m + t * B;
        float r[4][16];
        for (int l = 0; l < B; l++) {
            const float m0 = p[l], m1 = p[component + l], m2 = p[2 * component + l];
            const float m3 = p[3 * component + l], m4 = p[4 * component + l], m5 = p[5 * component + l];
            const float s12 = m1 + m2, d12 = m1 - m2, s34 = m3 + m4, d34 = m3 - m4;
            r[0][l] = m0 + s12 + s34;
            r[1][l] = d12 + 2.0f * d34;
            r[2][l] = s12 + 4.0f * s34;
            r[3][l] = d12 + 8.0f * d34 + m5;
        }
        const int64_t first = 4 * t;
        const int count = first + 4 <= width ? 4 : (int)(width - first);
        if (!after) {
            for (int i = 0; i < count; i++)
                for (int l = 0; l < B; l++) y[(first + i) * B + l] = r[i][l];
            continue;
        }
        // Inference's fused epilogue, in oneDNN's post-op order: bias, leaky ReLU, addends.
        const float slope = after->slope;
        for (int i = 0; i < count; i++) {
            const int64_t at = (first + i) * B;
            for (int l = 0; l < B; l++) {
                float v = r[i][l] + (after->bias ? after->bias[l] : 0.0f);
                if (after->leaky) v = v > 0.0f ? v : slope * v;
                if (a0) v += a0[at + l];
                if (a1) v += a1[at + l];
                y[at + l] = v;
            }
        }
    }
}

RS_KERNEL_BODY void output_gradient_row(const float *restrict dy, int64_t width, int64_t tiles, const int B,
                                        float *restrict dm, int64_t component) {
    for (int64_t t = 0; t < tiles; t++) {
        const int64_t first = 4 * t;
        float g[4][16];
        for (int i = 0; i < 4; i++)
            for (int l = 0; l < B; l++) g[i][l] = first + i < width ? dy[(first + i) * B + l] : 0.0f;
        float *o = dm + t * B;
        for (int l = 0; l < B; l++) {
            const float s02 = g[0][l] + g[2][l], s13 = g[1][l] + g[3][l];
            const float f02 = g[0][l] + 4.0f * g[2][l], f13 = 2.0f * g[1][l] + 8.0f * g[3][l];
            o[0 * component + l] = g[0][l];
            o[1 * component + l] = s02 + s13;
            o[2 * component + l] = s02 - s13;
            o[3 * component + l] = f02 + f13;
            o[4 * component + l] = f02 - f13;
            o[5 * component + l] = g[3][l];
        }
    }
}

RS_KERNEL_BODY void input_gradient_row(const float *restrict dv, int64_t tiles, int64_t width, const int B,
                                       int64_t component, float *restrict dx) {
    // Tile t's six inputs are x[4t - 1 .. 4t + 4]: its last two are the next tile's first two,
    // carried over and added.
    float carry[2][16] = {{0}};
    for (int64_t t = 0; t < tiles; t++) {
        const float *p = dv + t * B;
        float r[6][16];
        for (int l = 0; l < B; l++) {
            const float v0 = p[l], v1 = p[component + l], v2 = p[2 * component + l];
            const float v3 = p[3 * component + l], v4 = p[4 * component + l], v5 = p[5 * component + l];
            r[0][l] = 4.0f * v0 + carry[0][l];
            r[1][l] = 4.0f * (v2 - v1 + v5) + 2.0f * (v4 - v3) + carry[1][l];
            r[2][l] = -5.0f * v0 - 4.0f * (v1 + v2) - v3 - v4;
            r[3][l] = v1 - v2 + 2.0f * (v3 - v4) - 5.0f * v5;
            r[4][l] = v0 + v1 + v2 + v3 + v4;
            r[5][l] = v5;
            carry[0][l] = r[4][l];
            carry[1][l] = r[5][l];
        }
        // Inputs 0..3 of this tile are final (the next tile starts at its input 4).
        const int64_t first = 4 * t - 1;
        for (int j = 0; j < 4; j++) {
            const int64_t w = first + j;
            if (w < 0 || w >= width) continue;
            for (int l = 0; l < B; l++) dx[w * B + l] = r[j][l];
        }
    }
    // The last tile's inputs 4 and 5, where they lie inside the row.
    for (int j = 0; j < 2; j++) {
        const int64_t w = 4 * tiles - 1 + j;
        if (w < 0 || w >= width) continue;
        for (int l = 0; l < B; l++) dx[w * B + l] = carry[j][l];
    }
}

#define RS_BLOCKED(call16, call8) \
    if (block == 16) call16;      \
    else call8;
#define RS_WINOGRAD_VARIANT(suffix, target)                                                                                \
    target void rs_wino_input_row_##suffix(const float *restrict x, int64_t width, int64_t tiles, int32_t block,          \
                                           float *restrict v, int64_t component) {                                        \
        RS_BLOCKED(input_row(x, width, tiles, 16, v, component), input_row(x, width, tiles, 8, v, component))             \
    }                                                                                                                      \
    target void rs_wino_output_row_##suffix(const float *restrict m, int64_t tiles, int64_t width, int32_t block,         \
                                            int64_t component, const struct rs_winograd_epilogue *restrict after,         \
                                            const float *restrict a0, const float *restrict a1, float *restrict y) {      \
        RS_BLOCKED(output_row(m, tiles, width, 16, component, after, a0, a1, y),                                           \
                   output_row(m, tiles, width, 8, component, after, a0, a1, y))                                            \
    }                                                                                                                      \
    target void rs_wino_output_gradient_row_##suffix(const float *restrict dy, int64_t width, int64_t tiles,              \
                                                     int32_t block, float *restrict dm, int64_t component) {              \
        RS_BLOCKED(output_gradient_row(dy, width, tiles, 16, dm, component),                                               \
                   output_gradient_row(dy, width, tiles, 8, dm, component))                                                \
    }                                                                                                                      \
    target void rs_wino_input_gradient_row_##suffix(const float *restrict dv, int64_t tiles, int64_t width,               \
                                                    int32_t block, int64_t component, float *restrict dx) {               \
        RS_BLOCKED(input_gradient_row(dv, tiles, width, 16, component, dx),                                                \
                   input_gradient_row(dv, tiles, width, 8, component, dx))                                                 \
    }

RS_WINOGRAD_VARIANT(baseline, )
#if RS_HAVE_AVX2_VARIANT
RS_WINOGRAD_VARIANT(avx2, RS_TARGET_AVX2)
#endif

// MARK: The drivers: one row (sample, channel block, image row) per item, shared among threads

enum wino_transform { INPUT, OUTPUT, OUTPUT_GRADIENT, INPUT_GRADIENT };

struct wino_job {
    const rs_kernel_table *kernels;
    enum wino_transform transform;
    const float *from;
    float *to;
    // The output transform's epilogue (NULL: none), its bias for all channels, and addends.
    const struct rs_winograd_epilogue *after;
    const float *addends[2];
    int64_t blocks, height, width, tiles;
    int32_t block;
};

static void run_rows(void *context, int64_t begin, int64_t end) {
    const struct wino_job *job = context;
    const rs_kernel_table *k = job->kernels;
    const int64_t B = job->block, plane = job->blocks * job->height; // rows per sample and component
    const int64_t component = plane * job->tiles * B;
    for (int64_t row = begin; row < end; row++) {
        const int64_t n = row / plane, within = row % plane;
        const int64_t wide = row * job->width * B;                       // the row in the W-wide tensor
        const int64_t tiled = (n * 6 * plane + within) * job->tiles * B; // component 0's row
        switch (job->transform) {
        case INPUT:
            k->wino_input_row(job->from + wide, job->width, job->tiles, job->block, job->to + tiled, component);
            break;
        case OUTPUT: {
            struct rs_winograd_epilogue row_after;
            if (job->after) {
                row_after = *job->after;
                if (row_after.bias) row_after.bias += (within / job->height) * B; // this row's channel block
            }
            const float *a0 = job->addends[0] ? job->addends[0] + wide : NULL;
            const float *a1 = job->addends[1] ? job->addends[1] + wide : NULL;
            k->wino_output_row(job->from + tiled, job->tiles, job->width, job->block, component,
                               job->after ? &row_after : NULL, a0, a1, job->to + wide);
            break;
        }
        case OUTPUT_GRADIENT:
            k->wino_output_gradient_row(job->from + wide, job->width, job->tiles, job->block, job->to + tiled, component);
            break;
        case INPUT_GRADIENT:
            k->wino_input_gradient_row(job->from + tiled, job->tiles, job->width, job->block, component, job->to + wide);
            break;
        }
    }
}

static int run_transform(enum wino_transform transform, const float *from, float *to, int64_t samples,
                         int64_t channels, int64_t height, int64_t width, int32_t block,
                         const struct rs_winograd_epilogue *after) {
    if (samples <= 0 || height <= 0 || width <= 0 || (block != 8 && block != 16) || channels <= 0 ||
        channels % block != 0)
        return 0;
    struct wino_job job = {.kernels = rs_active_kernels(), .transform = transform, .from = from, .to = to,
                           .blocks = channels / block, .height = height, .width = width,
                           .tiles = (width + 3) / 4, .block = block, .after = after,
                           .addends = {after ? after->addend0 : NULL, after ? after->addend1 : NULL}};
    rs_parallel_for(samples * job.blocks * height, 4, run_rows, &job);
    return 1;
}

int rs_winograd_input(const float *restrict x, int64_t samples, int64_t channels, int64_t height, int64_t width,
                      int32_t block, float *restrict v) {
    return run_transform(INPUT, x, v, samples, channels, height, width, block, NULL);
}

int rs_winograd_output(const float *restrict m, int64_t samples, int64_t channels, int64_t height, int64_t width,
                       int32_t block, float *restrict y) {
    return run_transform(OUTPUT, m, y, samples, channels, height, width, block, NULL);
}

int rs_winograd_output_gradient(const float *restrict dy, int64_t samples, int64_t channels, int64_t height,
                                int64_t width, int32_t block, float *restrict dm) {
    return run_transform(OUTPUT_GRADIENT, dy, dm, samples, channels, height, width, block, NULL);
}

int rs_winograd_input_gradient(const float *restrict dv, int64_t samples, int64_t channels, int64_t height,
                               int64_t width, int32_t block, float *restrict dx) {
    return run_transform(INPUT_GRADIENT, dv, dx, samples, channels, height, width, block, NULL);
}

int rs_winograd_output_fused(const float *restrict m, int64_t samples, int64_t channels, int64_t height, int64_t width,
                             int32_t block, const struct rs_winograd_epilogue *after, float *restrict y) {
    return run_transform(OUTPUT, m, y, samples, channels, height, width, block, after);
}
