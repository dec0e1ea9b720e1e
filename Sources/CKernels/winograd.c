#include "variants.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

// The transforms of a one-dimensional Winograd convolution F(4, 3) along the width, on oneDNN's
// channel-blocked layout `[N][C / B][H][W][B]` (B = 8 or 16; C a multiple of B), float32 or
// bfloat16 (then through float rows: see the drivers at the end).
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

// Eight lanes as one vector (the compiler's vector extension): written this way, the input's and
// the output gradient's transforms, which write six streams, compile to whole-vector loads and
// stores; as plain loops over the lanes, clang vectorised them only partly and they ran at a
// third of the speed with 8 lanes (0.69 against 0.23 ms for 64 x 64 x 128 floats, one thread).
typedef float rs_lanes8 __attribute__((vector_size(32)));
RS_KERNEL_BODY rs_lanes8 load8(const float *p) {
    rs_lanes8 v;
    memcpy(&v, p, sizeof v);
    return v;
}
RS_KERNEL_BODY void store8(float *p, rs_lanes8 v) { memcpy(p, &v, sizeof v); }

/// Bᵀ d for one tile: `d` its six input pixels (B lanes each, contiguous), `o` component 0's place.
RS_KERNEL_BODY void input_tile(const float *restrict d, const int B, float *restrict o, int64_t component) {
    for (int l = 0; l < B; l += 8) {
        const rs_lanes8 d0 = load8(d + l), d1 = load8(d + B + l), d2 = load8(d + 2 * B + l);
        const rs_lanes8 d3 = load8(d + 3 * B + l), d4 = load8(d + 4 * B + l), d5 = load8(d + 5 * B + l);
        store8(o + 0 * component + l, 4.0f * d0 - 5.0f * d2 + d4);
        store8(o + 1 * component + l, -4.0f * (d1 + d2) + d3 + d4);
        store8(o + 2 * component + l, 4.0f * (d1 - d2) - d3 + d4);
        store8(o + 3 * component + l, 2.0f * (d3 - d1) - d2 + d4);
        store8(o + 4 * component + l, 2.0f * (d1 - d3) - d2 + d4);
        store8(o + 5 * component + l, 4.0f * d1 - 5.0f * d3 + d5);
    }
}

/// A tile at an end of the row, its pixels outside the row zeros.
RS_KERNEL_BODY void input_end_tile(const float *restrict x, int64_t width, int64_t t, const int B, float *restrict o,
                                   int64_t component) {
    float d[6 * 16];
    const int64_t first = 4 * t - 1;
    for (int j = 0; j < 6; j++) {
        const int64_t w = first + j;
        for (int l = 0; l < B; l++) d[j * B + l] = w >= 0 && w < width ? x[w * B + l] : 0.0f;
    }
    input_tile(d, B, o, component);
}

RS_KERNEL_BODY void input_row(const float *restrict x, int64_t width, int64_t tiles, const int B,
                              float *restrict v, int64_t component) {
    // Tiles 1 ..< interior lie inside the row, taken two at a time so that with 8 lanes each
    // component's writes fill whole cache lines.
    const int64_t interior = width >= 5 ? (width - 5) / 4 + 1 : 1;
    input_end_tile(x, width, 0, B, v, component);
    int64_t t = 1;
    for (; t + 1 < interior; t += 2) {
        input_tile(x + (4 * t - 1) * B, B, v + t * B, component);
        input_tile(x + (4 * t + 3) * B, B, v + (t + 1) * B, component);
    }
    for (; t < interior; t++) input_tile(x + (4 * t - 1) * B, B, v + t * B, component);
    for (t = interior > 1 ? interior : 1; t < tiles; t++) input_end_tile(x, width, t, B, v + t * B, component);
}

// Inference's fused epilogue, in oneDNN's post-op order (bias, leaky ReLU, addends), over a row
// just written (still in L1), one simple loop per step so that each vectorises.
RS_KERNEL_BODY void epilogue_row(const struct rs_winograd_epilogue *restrict after, int64_t width, const int B,
                                 float *restrict y) {
    const int64_t n = width * B;
    if (after->bias)
        for (int64_t p = 0; p < width; p++)
            for (int l = 0; l < B; l++) y[p * B + l] += after->bias[l];
    if (after->leaky) {
        const float slope = after->slope;
        for (int64_t i = 0; i < n; i++) y[i] = y[i] > 0.0f ? y[i] : slope * y[i];
    }
    const float *addend0 = after->addend0, *addend1 = after->addend1;
    if (addend0)
        for (int64_t i = 0; i < n; i++) y[i] += addend0[i];
    if (addend1)
        for (int64_t i = 0; i < n; i++) y[i] += addend1[i];
}

/// y = Aᵀ M for one tile's components (`p`, `component` apart), `B` lanes each, into r[4][B].
RS_KERNEL_BODY void output_tile(const float *restrict p, const int B, int64_t component, float r[4][16]) {
    for (int l = 0; l < B; l++) {
        const float m0 = p[l], m1 = p[component + l], m2 = p[2 * component + l];
        const float m3 = p[3 * component + l], m4 = p[4 * component + l], m5 = p[5 * component + l];
        const float s12 = m1 + m2, d12 = m1 - m2, s34 = m3 + m4, d34 = m3 - m4;
        r[0][l] = m0 + s12 + s34;
        r[1][l] = d12 + 2.0f * d34;
        r[2][l] = s12 + 4.0f * s34;
        r[3][l] = d12 + 8.0f * d34 + m5;
    }
}

RS_KERNEL_BODY void output_row(const float *restrict m, int64_t tiles, int64_t width, const int B,
                               int64_t component, const struct rs_winograd_epilogue *restrict after, float *restrict y) {
    for (int64_t t = 0; t < tiles; t++) {
        float r[4][16];
        output_tile(m + t * B, B, component, r);
        const int64_t first = 4 * t;
        const int count = first + 4 <= width ? 4 : (int)(width - first);
        for (int i = 0; i < count; i++)
            for (int l = 0; l < B; l++) y[(first + i) * B + l] = r[i][l];
    }
    if (after) epilogue_row(after, width, B, y);
}

RS_KERNEL_BODY void output_gradient_tile(const float *restrict g, const int B, float *restrict o, int64_t component) {
    for (int l = 0; l < B; l += 8) {
        const rs_lanes8 g0 = load8(g + l), g1 = load8(g + B + l), g2 = load8(g + 2 * B + l), g3 = load8(g + 3 * B + l);
        const rs_lanes8 s02 = g0 + g2, s13 = g1 + g3, f02 = g0 + 4.0f * g2, f13 = 2.0f * g1 + 8.0f * g3;
        store8(o + 0 * component + l, g0);
        store8(o + 1 * component + l, s02 + s13);
        store8(o + 2 * component + l, s02 - s13);
        store8(o + 3 * component + l, f02 + f13);
        store8(o + 4 * component + l, f02 - f13);
        store8(o + 5 * component + l, g3);
    }
}

RS_KERNEL_BODY void output_gradient_row(const float *restrict dy, int64_t width, int64_t tiles, const int B,
                                        float *restrict dm, int64_t component) {
    const int64_t whole = width / 4; // tiles with all four outputs inside the row
    for (int64_t t = 0; t < whole; t++) output_gradient_tile(dy + 4 * t * B, B, dm + t * B, component);
    if (whole < tiles) {
        // The last tile, past the row's end: those outputs had no gradient.
        float g[4 * 16];
        const int64_t first = 4 * whole;
        for (int i = 0; i < 4; i++)
            for (int l = 0; l < B; l++) g[i * B + l] = first + i < width ? dy[(first + i) * B + l] : 0.0f;
        output_gradient_tile(g, B, dm + whole * B, component);
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

// MARK: Transposed convolutions that double the width
//
// A transposed convolution with a 4-wide kernel w at width stride 2 and padding 1 (the decoders'
// upsampling) writes, per input column m (polyphase),
//
//     out[2m] = w[3] in[m - 1] + w[1] in[m],     out[2m + 1] = w[2] in[m] + w[0] in[m + 1],
//
// two 3-tap correlations over the same window in[m - 1 .. m + 1], with taps (w[3], w[1], 0) and
// (0, w[2], w[0]). So it runs as F(4, 3) at stride 1 with twice the output channels (phase r of
// channel c being channel r C_out + c), the input's transform the stride-1 one, and this output
// transform, which interleaves the two phases' rows into one row twice as wide.

/// The output row `y` (2 `width` pixels) from the tiled rows of its two phases (`m0`, `m1`).
RS_KERNEL_BODY void output_up2_row(const float *restrict m0, const float *restrict m1, int64_t tiles, int64_t width,
                                   const int B, int64_t component, const struct rs_winograd_epilogue *restrict after,
                                   float *restrict y) {
    for (int64_t t = 0; t < tiles; t++) {
        float even[4][16], odd[4][16];
        output_tile(m0 + t * B, B, component, even);
        output_tile(m1 + t * B, B, component, odd);
        const int64_t first = 4 * t;
        const int count = first + 4 <= width ? 4 : (int)(width - first);
        for (int i = 0; i < count; i++) {
            float *out = y + 2 * (first + i) * B;
            for (int l = 0; l < B; l++) out[l] = even[i][l];
            for (int l = 0; l < B; l++) out[B + l] = odd[i][l];
        }
    }
    if (after) epilogue_row(after, 2 * width, B, y);
}

// bfloat16 rows (the bf16 precision's activations): widened exactly, narrowed to nearest even
// after the addends (variants.h's `load_bf16` and `round_bf16`, as batch_norm.c uses them).
RS_KERNEL_BODY void widen(const uint16_t *restrict from, int64_t n, float *restrict to) {
    for (int64_t i = 0; i < n; i++) to[i] = load_bf16(from, i);
}

RS_KERNEL_BODY void narrow(const float *restrict from, const uint16_t *restrict addend0,
                           const uint16_t *restrict addend1, int64_t n, uint16_t *restrict to) {
    for (int64_t i = 0; i < n; i++) {
        float f = from[i];
        if (addend0) f += load_bf16(addend0, i);
        if (addend1) f += load_bf16(addend1, i);
        to[i] = round_bf16(f);
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
                                            float *restrict y) {                                                          \
        RS_BLOCKED(output_row(m, tiles, width, 16, component, after, y), output_row(m, tiles, width, 8, component, after, y)) \
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
    }                                                                                                                      \
    target void rs_wino_up2_output_row_##suffix(const float *restrict m0, const float *restrict m1, int64_t tiles,        \
                                                int64_t width, int32_t block, int64_t component,                          \
                                                const struct rs_winograd_epilogue *restrict after, float *restrict y) {   \
        RS_BLOCKED(output_up2_row(m0, m1, tiles, width, 16, component, after, y),                                          \
                   output_up2_row(m0, m1, tiles, width, 8, component, after, y))                                           \
    }                                                                                                                      \
    target void rs_wino_widen_##suffix(const uint16_t *restrict from, int64_t n, float *restrict to) {                    \
        widen(from, n, to);                                                                                                \
    }                                                                                                                      \
    target void rs_wino_narrow_##suffix(const float *restrict from, const uint16_t *restrict addend0,                     \
                                        const uint16_t *restrict addend1, int64_t n, uint16_t *restrict to) {             \
        narrow(from, addend0, addend1, n, to);                                                                             \
    }

RS_WINOGRAD_VARIANT(baseline, )
#if RS_HAVE_AVX2_VARIANT
RS_WINOGRAD_VARIANT(avx2, RS_TARGET_AVX2)
#endif

// MARK: The drivers: one row (sample, channel block, image row) per item, shared among threads

enum wino_transform { INPUT, OUTPUT, OUTPUT_GRADIENT, INPUT_GRADIENT, OUTPUT_UP2 };

struct wino_job {
    const rs_kernel_table *kernels;
    enum wino_transform transform;
    const void *from;
    void *to;
    // The output transform's epilogue over the whole tensor (NULL: none).
    const struct rs_winograd_epilogue *after;
    int64_t blocks, height, width, tiles;
    int32_t block;
    // bfloat16 wide tensors and read tiled ones (see kernels.h).
    int32_t bf16;
};

/// The epilogue as one output row sees it: its channel block's bias, its row of each addend
/// (`wide`: the row's first element in the output).
static struct rs_winograd_epilogue row_epilogue(const struct wino_job *job, int64_t within, int64_t wide) {
    struct rs_winograd_epilogue row_after = *job->after;
    if (row_after.bias) row_after.bias += (within / job->height) * job->block;
    if (row_after.addend0) row_after.addend0 = (const float *)row_after.addend0 + wide;
    if (row_after.addend1) row_after.addend1 = (const float *)row_after.addend1 + wide;
    return row_after;
}

/// Rows per sample and component of the tiled tensor: OUTPUT_UP2's has twice the channels.
static int64_t tiled_planes(const struct wino_job *job) {
    const int64_t plane = job->blocks * job->height;
    return job->transform == OUTPUT_UP2 ? 2 * plane : plane;
}

/// How far apart the tiled tensor's components are, in elements.
static int64_t component_stride(const struct wino_job *job) { return tiled_planes(job) * job->tiles * job->block; }

/// Where component 0's row of output row (n, within) lies in the tiled tensor: `phase` 0 for
/// the stride-1 forms; for OUTPUT_UP2 phase r's.
static int64_t tiled_row(const struct wino_job *job, int64_t n, int64_t within, int phase) {
    const int64_t plane = job->blocks * job->height;
    return (n * 6 * tiled_planes(job) + phase * plane + within) * job->tiles * job->block;
}

/// The rows of a float32 job.
static void run_float_rows(const struct wino_job *job, int64_t begin, int64_t end) {
    const rs_kernel_table *k = job->kernels;
    const int64_t B = job->block, plane = job->blocks * job->height; // rows per sample (of `blocks` channel blocks)
    const int64_t component = component_stride(job);
    const float *from = job->from;
    float *to = job->to;
    for (int64_t row = begin; row < end; row++) {
        const int64_t n = row / plane, within = row % plane;
        const int64_t wide = row * job->width * B; // the row in the W-wide tensor
        const int64_t tiled = tiled_row(job, n, within, 0);
        struct rs_winograd_epilogue row_after;
        switch (job->transform) {
        case INPUT:
            k->wino_input_row(from + wide, job->width, job->tiles, job->block, to + tiled, component);
            break;
        case OUTPUT:
            if (job->after) row_after = row_epilogue(job, within, wide);
            k->wino_output_row(from + tiled, job->tiles, job->width, job->block, component,
                               job->after ? &row_after : NULL, to + wide);
            break;
        case OUTPUT_GRADIENT:
            k->wino_output_gradient_row(from + wide, job->width, job->tiles, job->block, to + tiled, component);
            break;
        case INPUT_GRADIENT:
            k->wino_input_gradient_row(from + tiled, job->tiles, job->width, job->block, component, to + wide);
            break;
        case OUTPUT_UP2:
            // The output row is twice as wide as the phases' rows.
            if (job->after) row_after = row_epilogue(job, within, 2 * wide);
            k->wino_up2_output_row(from + tiled, from + tiled_row(job, n, within, 1), job->tiles, job->width,
                                   job->block, component, job->after ? &row_after : NULL, to + 2 * wide);
            break;
        }
    }
}

/// The rows of a bf16 job: each through float rows in `scratch` (a wide row, then six tiled
/// component rows one after the other), widened before and rounded after the float kernels.
static void run_bf16_rows(const struct wino_job *job, int64_t begin, int64_t end, float *scratch) {
    const rs_kernel_table *k = job->kernels;
    const int64_t B = job->block, plane = job->blocks * job->height;
    const int64_t component = component_stride(job);
    const int64_t wide_count = job->width * B, tiled_count = job->tiles * B;
    // (OUTPUT_UP2's output row, twice as wide, fills the tiled rows' place too.)
    float *wide_row = scratch, *tiled_rows = scratch + wide_count; // components tiled_count apart
    for (int64_t row = begin; row < end; row++) {
        const int64_t n = row / plane, within = row % plane;
        const int64_t wide = row * wide_count;
        const int64_t tiled = tiled_row(job, n, within, 0);
        switch (job->transform) {
        case INPUT:
        case OUTPUT_GRADIENT: {
            const uint16_t *from = job->from;
            uint16_t *to = job->to;
            k->wino_widen(from + wide, wide_count, wide_row);
            if (job->transform == INPUT)
                k->wino_input_row(wide_row, job->width, job->tiles, job->block, tiled_rows, tiled_count);
            else
                k->wino_output_gradient_row(wide_row, job->width, job->tiles, job->block, tiled_rows, tiled_count);
            for (int xi = 0; xi < 6; xi++)
                k->wino_narrow(tiled_rows + xi * tiled_count, NULL, NULL, tiled_count, to + tiled + xi * component);
            break;
        }
        case OUTPUT:
        case OUTPUT_UP2: {
            // Bias and leaky ReLU in float, the addends (bfloat16) as the row is rounded.
            const float *from = job->from;
            uint16_t *to = job->to;
            const int64_t scale = job->transform == OUTPUT_UP2 ? 2 : 1; // output pixels per phase pixel
            struct rs_winograd_epilogue row_after = {0};
            const uint16_t *addend0 = NULL, *addend1 = NULL;
            if (job->after) {
                row_after = *job->after;
                if (row_after.bias) row_after.bias += (within / job->height) * B;
                if (row_after.addend0) addend0 = (const uint16_t *)row_after.addend0 + scale * wide;
                if (row_after.addend1) addend1 = (const uint16_t *)row_after.addend1 + scale * wide;
                row_after.addend0 = row_after.addend1 = NULL;
            }
            if (job->transform == OUTPUT)
                k->wino_output_row(from + tiled, job->tiles, job->width, job->block, component,
                                   job->after ? &row_after : NULL, wide_row);
            else
                k->wino_up2_output_row(from + tiled, from + tiled_row(job, n, within, 1), job->tiles, job->width,
                                       job->block, component, job->after ? &row_after : NULL, wide_row);
            k->wino_narrow(wide_row, addend0, addend1, scale * wide_count, to + scale * wide);
            break;
        }
        case INPUT_GRADIENT: {
            const float *from = job->from;
            uint16_t *to = job->to;
            k->wino_input_gradient_row(from + tiled, job->tiles, job->width, job->block, component, wide_row);
            k->wino_narrow(wide_row, NULL, NULL, wide_count, to + wide);
            break;
        }
        }
    }
}

static void run_rows(void *context, int64_t begin, int64_t end) {
    const struct wino_job *job = context;
    if (!job->bf16) {
        run_float_rows(job, begin, end);
        return;
    }
    // One wide row and six tiled rows of floats, for this share's rows (OUTPUT_UP2's output row,
    // twice as wide, fits in them).
    const int64_t floats = job->width * job->block + 6 * job->tiles * job->block;
    float *scratch = malloc((size_t)floats * sizeof(float));
    if (!scratch) abort();
    run_bf16_rows(job, begin, end, scratch);
    free(scratch);
}

static int run_transform(enum wino_transform transform, const void *from, void *to, int64_t samples,
                         int64_t channels, int64_t height, int64_t width, int32_t block, int32_t bf16,
                         const struct rs_winograd_epilogue *after) {
    if (samples <= 0 || height <= 0 || width <= 0 || (block != 8 && block != 16) || channels <= 0 ||
        channels % block != 0)
        return 0;
    struct wino_job job = {.kernels = rs_active_kernels(), .transform = transform, .from = from, .to = to,
                           .blocks = channels / block, .height = height, .width = width,
                           .tiles = (width + 3) / 4, .block = block, .bf16 = bf16 != 0, .after = after};
    rs_parallel_for(samples * job.blocks * height, 4, run_rows, &job);
    return 1;
}

int rs_winograd_input(const void *restrict x, int64_t samples, int64_t channels, int64_t height, int64_t width,
                      int32_t block, int32_t bf16, void *restrict v) {
    return run_transform(INPUT, x, v, samples, channels, height, width, block, bf16, NULL);
}

int rs_winograd_output(const float *restrict m, int64_t samples, int64_t channels, int64_t height, int64_t width,
                       int32_t block, int32_t bf16, void *restrict y) {
    return run_transform(OUTPUT, m, y, samples, channels, height, width, block, bf16, NULL);
}

int rs_winograd_output_gradient(const void *restrict dy, int64_t samples, int64_t channels, int64_t height,
                                int64_t width, int32_t block, int32_t bf16, void *restrict dm) {
    return run_transform(OUTPUT_GRADIENT, dy, dm, samples, channels, height, width, block, bf16, NULL);
}

int rs_winograd_input_gradient(const float *restrict dv, int64_t samples, int64_t channels, int64_t height,
                               int64_t width, int32_t block, int32_t bf16, void *restrict dx) {
    return run_transform(INPUT_GRADIENT, dv, dx, samples, channels, height, width, block, bf16, NULL);
}

int rs_winograd_output_fused(const float *restrict m, int64_t samples, int64_t channels, int64_t height, int64_t width,
                             int32_t block, int32_t bf16, const struct rs_winograd_epilogue *after, void *restrict y) {
    return run_transform(OUTPUT, m, y, samples, channels, height, width, block, bf16, after);
}

int rs_winograd_up2_output_fused(const float *restrict m, int64_t samples, int64_t channels, int64_t height,
                                 int64_t width, int32_t block, int32_t bf16, const struct rs_winograd_epilogue *after,
                                 void *restrict y) {
    return run_transform(OUTPUT_UP2, m, y, samples, channels, height, width, block, bf16, after);
}
