#ifndef RANGESEG_KERNELS_H
#define RANGESEG_KERNELS_H

#include <stdint.h>

// RangeSeg's per-element hot loops, in C so that the compiler vectorises them (Swift's SIMD
// types did not compile to vector code here). Each is plain arithmetic over flat arrays.
//
// The vectorised kernels are compiled for AVX2 and for the x86-64 baseline; the first call of
// any of them chooses one variant for the whole process (see "Dispatch" below). All are safe to
// call from several threads at once on separate buffers.

// MARK: Projection (projection.c)

/// Row, column and range of each of `n` points (x, y, z, remission interleaved in `xyzr`) on a
/// `height` x `width` spherical range image whose vertical field of view runs from
/// `fov_down_rad` to `fov_up_rad`. Points with a NaN or infinite coordinate or at range 0 get
/// row and column -1. The loop is plain branch-free arithmetic, which the C compiler vectorises.
void rs_place_points(const float *restrict xyzr, int64_t n, int32_t height, int32_t width,
                     double fov_up_rad, double fov_down_rad,
                     int32_t *restrict rows, int32_t *restrict columns, float *restrict ranges);

/// Fills the pixel images from placed points: in each pixel the nearest point wins (on equal
/// ranges the lower index). Empty pixels get index -1 and range, xyz and remission -1. `pixels`
/// is height x `width`; the rows are shared among threads (`rs_parallel_for`).
/// Returns the number of points not placed.
int64_t rs_fill_pixels(const float *restrict xyzr, int64_t n, const int32_t *restrict rows,
                       const int32_t *restrict columns, const float *restrict ranges,
                       int32_t width, int64_t pixels,
                       int32_t *restrict index, float *restrict range, float *restrict xyz,
                       float *restrict remission);

/// The network's five input channels [5, pixels] (range, x, y, z, remission) from the pixel
/// images: (value - means[k]) x inverse_stds[k], 0 where the pixel is empty (index < 0).
void rs_normalise_channels(const int32_t *restrict index, const float *restrict range, const float *restrict xyz,
                           const float *restrict remission, int64_t pixels, const float *restrict means,
                           const float *restrict inverse_stds, float *restrict out);

/// Whether any of `n` points (x, y, z, remission interleaved) has a NaN or infinite coordinate
/// or lies at range 0 (x = y = z = 0): the points `rs_place_points` cannot place.
int rs_any_unplaceable(const float *restrict xyzr, int64_t n);

// MARK: Range-image k-NN (range_knn.c)

/// RangeNet++'s k-NN clean-up of `n` points placed at (`rows`, `columns`) (row -1: not placed,
/// class 0 out) with ranges `point_range`, on a `height` x `width` image of ranges `range` (-1
/// where empty) and classes `classes`: among the `window` x `window` pixels around a point's
/// pixel, the `k` with the smallest |range - point's range| x `weights[slot]` (empty pixels
/// infinitely far, pixels outside the image range 0 and class 0, the point's own pixel at its
/// range) vote, those beyond `cutoff` (when positive) and of class 0 or >= `class_count` not;
/// the lowest class of the most votes wins. A point without votes gets its pixel's class when
/// `no_vote_class` is negative, else `no_vote_class`. Returns 0, or -1 when memory runs out,
/// the window has more than 256 slots or `k` exceeds them.
int rs_range_knn(const float *restrict range, const int32_t *restrict classes, int32_t height, int32_t width,
                 const int32_t *restrict rows, const int32_t *restrict columns, const float *restrict point_range,
                 int64_t n, int32_t k, int32_t window, const float *restrict weights, float cutoff,
                 int32_t class_count, int32_t no_vote_class, int32_t *restrict out);

// MARK: Argmax over class planes (argmax.c)

/// The class of the largest logit of each of `pixels` pixels, from `logits` as `classes` planes
/// of `pixels` values; on equal logits the lower class, like a loop that replaces the best only
/// on a strictly larger value. Branch-free, so the compiler vectorises it.
void rs_argmax_classes(const float *restrict logits, int64_t classes, int64_t pixels, int32_t *restrict out);

/// `rs_argmax_classes` for logits in oneDNN's channel-blocked layout (`nChw16c`, `nChw8c`),
/// where the network leaves them: class c of pixel p at (c / block x pixels + p) x block +
/// c % block. Saves reordering 10 MB per 64 x 2048 image of 20 classes.
void rs_argmax_channel_blocks(const float *restrict data, int64_t classes, int64_t pixels, int64_t block,
                              int32_t *restrict out);

// MARK: Subclassified loss (similarity.c)

/// The number of j in 0..<n with dots[j] / (max(query_norm, reference_norms[j]) + 1e-5) > tau:
/// how many reference vectors resemble a query vector under the modified cosine similarity.
int64_t rs_count_similar(const float *restrict dots, const float *restrict reference_norms, int64_t n,
                         float query_norm, float tau);

// MARK: Cross-entropy (softmax.c)

/// Softmax cross-entropy of one image and its gradient, fused. `logits` are [classes, pixels]
/// planes, `labels` one class per pixel, `factors` the weight of each pixel's loss (0: no loss,
/// e.g. an ignored pixel; labels of such pixels are not read). Writes each pixel's unweighted
/// cross-entropy `logsumexp(z) - z_y` to `pixel_loss` (0 where the factor is 0) and
/// `factor * scale * (softmax - onehot)` to `gradient` ([classes, pixels]); returns the sum of
/// `factor * cross-entropy`.
double rs_softmax_cross_entropy(const float *restrict logits, const int32_t *restrict labels,
                                const float *restrict factors, int64_t classes, int64_t pixels,
                                float scale, float *restrict gradient, float *restrict pixel_loss);

// MARK: Batch norm + leaky ReLU for training (batch_norm.c)

/// Training-mode batch norm (batch statistics) then leaky ReLU, `y = leaky(scale (x - mean) /
/// sqrt(var + epsilon) + shift)`, plus `residual` where it is not NULL (a tensor of `x`'s layout and
/// element type, added to the leaky ReLU's output before the one rounding to bf16: a residual
/// connection), over a channel-blocked tensor `[samples][ceil(channels / block)]
/// [pixels][block]` (block 8 or 16; padded lanes of `x` and `residual` are zeros, those of `y` are written 0) of
/// float32 elements, or bfloat16 where `bf16` is non-zero (`y` then rounded to nearest even; the
/// arithmetic is float either way). Writes `y` and the batch's mean and biased variance
/// (`channels` floats each). The work is shared among threads as `rs_parallel_for` shares it;
/// the result does not depend on how many. Returns 0 (and writes nothing) for an unsupported block
/// or size, or if scratch memory runs out.
int rs_batch_norm_leaky_relu_forward(const void *restrict x, const void *restrict residual, int64_t samples,
                                     int64_t channels, int64_t pixels, int32_t block, int32_t bf16,
                                     const float *restrict scale, const float *restrict shift, float epsilon,
                                     float slope, void *restrict y, float *restrict mean, float *restrict variance);

/// The gradients of `rs_batch_norm_leaky_relu_forward` with respect to `x` (written to `dx`, in
/// `x`'s layout and element type), `scale` and `shift` (float32), from the output's gradient `dy`
/// (`x`'s layout and element type) and the forward pass's `mean` and `variance`. Returns 0 as the
/// forward pass does.
int rs_batch_norm_leaky_relu_backward(const void *restrict x, const void *restrict dy, int64_t samples,
                                      int64_t channels, int64_t pixels, int32_t block, int32_t bf16,
                                      const float *restrict scale, const float *restrict shift,
                                      const float *restrict mean, const float *restrict variance, float epsilon,
                                      float slope, void *restrict dx, float *restrict dscale, float *restrict dshift);

// MARK: One-dimensional Winograd F(4, 3) along the width (winograd.c)

/// The transforms around a 3-tap, padding-1, stride-1 convolution along the width run as six
/// grouped convolutions on tiles of four outputs (see winograd.c for the matrices). Wide tensors
/// are `[samples][channels / block][height][width][block]` (block 8 or 16, `channels` a multiple
/// of it); tiled ones `[samples][6 channels / block][height][ceil(width / 4)][block]`, component
/// ξ of channel c being channel ξ channels + c. Rows are shared among threads (`rs_parallel_for`).
/// Each returns 0 (and writes nothing) for an unsupported block or size.
///
/// Elements are float32, or where `bf16` is non-zero the bf16 precision's: the wide tensors and
/// the tiled ones the grouped convolutions read (`v`, `dm`) bfloat16, the tiled ones they write
/// (`m`, `dv`) float32, so that each transform rounds once, at its end. Arithmetic is float.
///
/// The input's transform V = Bᵀ d (`x` wide, `v` tiled; positions outside the row read as 0).
int rs_winograd_input(const void *restrict x, int64_t samples, int64_t channels, int64_t height, int64_t width,
                      int32_t block, int32_t bf16, void *restrict v);
/// The output's transform y = Aᵀ M (`m` tiled, float32; `y` wide; a last tile's outputs past
/// `width` dropped).
int rs_winograd_output(const float *restrict m, int64_t samples, int64_t channels, int64_t height, int64_t width,
                       int32_t block, int32_t bf16, void *restrict y);
/// What inference's fused convolutions do after the output's transform, in oneDNN's post-op
/// order: add `bias` (per channel, float32; NULL: none), apply a leaky ReLU with `slope` where
/// `leaky` is non-zero, then add `addend0` and `addend1` (wide tensors of the output's layout
/// and element type; NULL: none).
struct rs_winograd_epilogue {
    const float *bias;
    int32_t leaky;
    float slope;
    const void *addend0;
    const void *addend1;
};
/// `rs_winograd_output` followed by `after` (NULL: nothing), in the same pass.
int rs_winograd_output_fused(const float *restrict m, int64_t samples, int64_t channels, int64_t height, int64_t width,
                             int32_t block, int32_t bf16, const struct rs_winograd_epilogue *after, void *restrict y);
/// The transpose of the output's transform, dM = A dy (`dy` wide, `dm` tiled).
int rs_winograd_output_gradient(const void *restrict dy, int64_t samples, int64_t channels, int64_t height,
                                int64_t width, int32_t block, int32_t bf16, void *restrict dm);
/// The transpose of the input's transform, dx = B dV (`dv` tiled, float32; `dx` wide; every
/// pixel written).
int rs_winograd_input_gradient(const float *restrict dv, int64_t samples, int64_t channels, int64_t height,
                               int64_t width, int32_t block, int32_t bf16, void *restrict dx);

/// A transposed convolution with a 4-wide kernel at width stride 2 and padding 1 (inference's
/// forward pass), run as F(4, 3) with twice the output channels (phase r of channel c being
/// channel r `channels` + c; see winograd.c): the output's transform, which interleaves the
/// phases, from `m` (`[samples][6 · 2 channels / block][height][ceil(width / 4)][block]`, `width`
/// the input's) into `y` (`channels` wide, 2 `width` pixels a row), then `after`.
int rs_winograd_up2_output_fused(const float *restrict m, int64_t samples, int64_t channels, int64_t height,
                                 int64_t width, int32_t block, int32_t bf16, const struct rs_winograd_epilogue *after,
                                 void *restrict y);

// MARK: Sharing work among threads (parallel.c)

/// Work on the items begin..<end of a loop; called once per share, from the share's thread.
typedef void (*rs_parallel_body)(void *context, int64_t begin, int64_t end);

/// Runs `body` over 0..<count split into contiguous shares of at least `minimum_share` items,
/// one per thread of the OpenMP team oneDNN uses (GNU libgomp, found at run time), and returns
/// when all are done; on the calling thread alone unless that thread opted in
/// (`rs_parallel_share_here`), and when the process has no libgomp, one thread, or too little
/// work. Shares must write disjoint outputs.
void rs_parallel_for(int64_t count, int64_t minimum_share, rs_parallel_body body, void *context);

/// Whether the kernels called on this thread share their work (`share` non-zero) or run on it
/// alone (the default); returns the previous setting. For the thread that runs the network,
/// whose OpenMP team is oneDNN's; elsewhere a second team would compete with the network's.
int rs_parallel_share_here(int share);

/// The number of threads `rs_parallel_for` shares work among on a thread that opted in (1
/// without libgomp).
int rs_parallel_threads(void);

/// Caps the threads of `rs_parallel_for` from now on, process-wide (0: OpenMP's number again):
/// for measurements on one thread (`rangeseg bench project`) and tests.
void rs_parallel_limit_threads(int threads);

// MARK: Memory (memory.c)

/// From now on, buffers of any size up to 512 MB come from the heap and freed ones stay there
/// for reuse (glibc's `mallopt`; nothing elsewhere). By default glibc maps each buffer over
/// 128 KB afresh and unmaps it when freed, so a program that allocates the same large arrays
/// scan after scan pays a page fault on every first touch of every page, unless an earlier
/// large free happened to raise that threshold. For programs, not libraries: `rangeseg` calls
/// it first thing.
void rs_keep_large_buffers(void);

// MARK: Dispatch (dispatch.c)

/// The instruction sets the vectorised kernels (`rs_place_points`, `rs_count_similar`,
/// `rs_softmax_cross_entropy`) are compiled for.
typedef enum rs_kernel_variant {
    /// The x86-64 baseline (SSE2), or plain C on other processors.
    RS_KERNELS_BASELINE = 0,
    /// AVX2 (x86-64 only).
    RS_KERNELS_AVX2 = 1,
} rs_kernel_variant;

/// One variant's kernels, with the signatures and meaning of the functions above.
typedef struct rs_kernel_table {
    rs_kernel_variant variant;
    /// "baseline" or "avx2".
    const char *name;
    void (*place_points)(const float *restrict xyzr, int64_t n, int32_t height, int32_t width,
                         double fov_up_rad, double fov_down_rad,
                         int32_t *restrict rows, int32_t *restrict columns, float *restrict ranges);
    int64_t (*count_similar)(const float *restrict dots, const float *restrict reference_norms, int64_t n,
                             float query_norm, float tau);
    double (*softmax_cross_entropy)(const float *restrict logits, const int32_t *restrict labels,
                                    const float *restrict factors, int64_t classes, int64_t pixels,
                                    float scale, float *restrict gradient, float *restrict pixel_loss);
    // Batch norm + leaky ReLU over `pixels` pixels of one channel block (batch_norm.c); elements
    // are float32, or bfloat16 where `bf16` is non-zero.
    void (*bn_sums)(const void *restrict x, int64_t pixels, int32_t block, int32_t bf16, const float *restrict pivot,
                    double *restrict sum, double *restrict squares);
    // `r`, when not NULL, is added to the leaky ReLU's output (a residual connection).
    void (*bn_leaky_apply)(const void *restrict x, const void *restrict r, int64_t pixels, int32_t block, int32_t bf16,
                           const float *restrict a, const float *restrict b, float slope, void *restrict y);
    void (*bn_leaky_gradient_sums)(const void *restrict x, const void *restrict dy, int64_t pixels, int32_t block,
                                   int32_t bf16, const float *restrict a, const float *restrict b,
                                   const float *restrict mean, float slope, double *restrict sum_dz,
                                   double *restrict sum_dz_centred);
    void (*bn_leaky_input_gradient)(const void *restrict x, const void *restrict dy, int64_t pixels, int32_t block,
                                    int32_t bf16, const float *restrict a, const float *restrict b,
                                    const float *restrict mean, float slope, const float *restrict centred_factor,
                                    const float *restrict offset, void *restrict dx);
    // The Winograd F(4, 3) transforms of one row (winograd.c): `width` pixels of the wide tensor,
    // `tiles` tiles of the tiled one, whose six components are `component` floats apart.
    void (*wino_input_row)(const float *restrict x, int64_t width, int64_t tiles, int32_t block, float *restrict v,
                           int64_t component);
    // `after`: the epilogue for this row (its channel block's bias, its rows of the addends).
    void (*wino_output_row)(const float *restrict m, int64_t tiles, int64_t width, int32_t block, int64_t component,
                            const struct rs_winograd_epilogue *restrict after, float *restrict y);
    void (*wino_output_gradient_row)(const float *restrict dy, int64_t width, int64_t tiles, int32_t block,
                                     float *restrict dm, int64_t component);
    void (*wino_input_gradient_row)(const float *restrict dv, int64_t tiles, int64_t width, int32_t block,
                                    int64_t component, float *restrict dx);
    // The output transform of a width-doubling transposed convolution: the two phases' tiled
    // rows (`m0`, `m1`; components `component` apart) interleaved into one row of 2 `width`.
    void (*wino_up2_output_row)(const float *restrict m0, const float *restrict m1, int64_t tiles, int64_t width,
                                int32_t block, int64_t component, const struct rs_winograd_epilogue *restrict after,
                                float *restrict y);
    // bfloat16 rows for the bf16 precision's transforms: `n` elements widened to float, and
    // float rounded to bfloat16 (nearest even) after adding `addend0` and `addend1` (NULL: none).
    void (*wino_widen)(const uint16_t *restrict from, int64_t n, float *restrict to);
    void (*wino_narrow)(const float *restrict from, const uint16_t *restrict addend0, const uint16_t *restrict addend1,
                        int64_t n, uint16_t *restrict to);
} rs_kernel_table;

/// The variant the kernels run in this process: AVX2 when the processor and operating system
/// support it, else the baseline. Chosen once, thread-safely, at the first kernel call.
rs_kernel_variant rs_active_kernel_variant(void);

/// The kernels of `variant`, or NULL when this processor cannot run it (or the build has no
/// such variant). For tests that compare the variants' results.
const rs_kernel_table *rs_kernel_table_for(rs_kernel_variant variant);

#endif
