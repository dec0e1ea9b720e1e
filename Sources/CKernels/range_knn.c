#include "kernels.h"
#include "variants.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#if RS_HAVE_AVX2_VARIANT
#include <immintrin.h>
#endif

// RangeNet++'s range-image k-NN vote (see kernels.h), as the Swift reference
// RangeKNN.applyReference defines it: the k nearest slots of the window, ties to the lower slot.
//
// Speed: the range and class images are copied once into padded images (empty pixels at
// infinity, the border at range 0 and class 0), so that a point's window is read without a
// bounds check; the k nearest are found without a branch (below). At most 256 window slots.
//
// Most points need no search: where every pixel of a point's window lies in the image and holds
// the same class c (0 < c < class_count), every neighbour votes for c or for nothing, and the
// nearest slot, at distance 0 (the point itself, or one as near and earlier), is within any
// cutoff, so the answer is c whatever the ranges. With a finite positive cutoff, empty pixels
// may hold any class: they lie infinitely far, beyond the cutoff, and never vote (the window's
// own pixel is never empty, it holds the point). `uniform` marks those windows first (two
// separable passes over the class image); on a trained network's predictions most pixels lie
// inside one object or surface, and near an object's edge the window often reaches the sky.
//
// The rest, for RangeNet++'s k 5 and 5 x 5 window on a processor with AVX2, are searched eight
// points at a time (`search8_k5w5_avx2`): the window's ranges gathered slot by slot, the five
// nearest kept sorted in registers by the same insertion with a strict comparison, which keeps
// the earlier slot first among equal distances, the order of the scalar keys.
static inline uint64_t min_u64(uint64_t a, uint64_t b) { return a < b ? a : b; }
static inline uint64_t max_u64(uint64_t a, uint64_t b) { return a > b ? a : b; }

/// A window slot's sort key: the distance's bits (non-negative floats, infinity included, order
/// as their bits) above the slot number, so that keys are distinct and ties go to the lower slot.
static inline uint64_t slot_key(float distance, int32_t slot) {
    uint32_t bits;
    memcpy(&bits, &distance, sizeof bits);
    return (uint64_t)bits << 8 | (uint64_t)slot;
}

/// The vote of `k` neighbours, nearest first (`cls`, `distance`): those within `cutoff` (when
/// positive) and of a class in 1..<class_count vote, and the lowest class of the most votes
/// wins; -1 when none votes. `votes` (class_count counters) is zero before and after.
static inline int32_t tally(const int32_t *restrict cls, const float *restrict distance, int32_t k, float cutoff,
                            int32_t class_count, int32_t *restrict votes) {
    int32_t winner = 0, most = 0;
    for (int32_t j = 0; j < k; j++) {
        if ((distance[j] <= cutoff || cutoff <= 0.0f) && cls[j] > 0 && cls[j] < class_count) {
            const int32_t v = ++votes[cls[j]];
            if (v > most || (v == most && cls[j] < winner)) {
                winner = cls[j];
                most = v;
            }
        }
    }
    for (int32_t j = 0; j < k; j++) {
        if (cls[j] > 0 && cls[j] < class_count) votes[cls[j]] = 0;
    }
    return most > 0 ? winner : -1;
}

#if RS_HAVE_AVX2_VARIANT
/// The five nearest slots of a 5 x 5 window, in order, for eight points at once: `base[l]` is
/// the padded-image index of point l's window corner, `r[l]` its range; writes slot numbers
/// and distances, five per point. The distances are computed as the scalar path computes them,
/// (|near - r|) x weight, the centre slot 0, and compared as their bits (non-negative floats
/// and infinity order as integers), so the result is the scalar one.
RS_TARGET_AVX2 static void search8_k5w5_avx2(const float *restrict pad_range, int64_t pw, const int32_t *restrict base,
                                             const float *restrict r, const float *restrict weights,
                                             int32_t *restrict slots_out, float *restrict distance_out) {
    const __m256i corner = _mm256_loadu_si256((const __m256i *)base);
    const __m256 range = _mm256_loadu_ps(r);
    const __m256 zero = _mm256_setzero_ps();
    __m256i b[5], s[5];
    for (int j = 0; j < 5; j++) {
        b[j] = _mm256_set1_epi32(0x7FFFFFFF); // above every distance, infinity included
        s[j] = _mm256_setzero_si256();
    }
    for (int32_t slot = 0; slot < 25; slot++) {
        __m256 d;
        if (slot == 12) {
            d = zero; // the point itself, at its own range
        } else {
            const int32_t offset = (slot / 5) * (int32_t)pw + slot % 5;
            const __m256i index = _mm256_add_epi32(corner, _mm256_set1_epi32(offset));
            const __m256 near = _mm256_i32gather_ps(pad_range, index, 4);
            d = _mm256_sub_ps(near, range);
            d = _mm256_blendv_ps(d, _mm256_sub_ps(zero, d), _mm256_cmp_ps(d, zero, _CMP_LT_OQ));
            d = _mm256_mul_ps(d, _mm256_set1_ps(weights[slot]));
        }
        const __m256i key = _mm256_castps_si256(d), slot_v = _mm256_set1_epi32(slot);
        __m256i m[5];
        for (int j = 0; j < 5; j++) m[j] = _mm256_cmpgt_epi32(b[j], key); // key < b[j]
        for (int j = 4; j > 0; j--) {
            b[j] = _mm256_blendv_epi8(_mm256_blendv_epi8(b[j], key, m[j]), b[j - 1], m[j - 1]);
            s[j] = _mm256_blendv_epi8(_mm256_blendv_epi8(s[j], slot_v, m[j]), s[j - 1], m[j - 1]);
        }
        b[0] = _mm256_blendv_epi8(b[0], key, m[0]);
        s[0] = _mm256_blendv_epi8(s[0], slot_v, m[0]);
    }
    int32_t slots[5][8];
    float distances[5][8];
    for (int j = 0; j < 5; j++) {
        _mm256_storeu_si256((__m256i *)slots[j], s[j]);
        _mm256_storeu_ps(distances[j], _mm256_castsi256_ps(b[j]));
    }
    for (int l = 0; l < 8; l++) {
        for (int j = 0; j < 5; j++) {
            slots_out[l * 5 + j] = slots[j][l];
            distance_out[l * 5 + j] = distances[j][l];
        }
    }
}

/// Searches `count` (1-8) points with `search8_k5w5_avx2` (unused lanes repeat the first) and
/// writes each one's vote, as the scalar path votes.
RS_TARGET_AVX2 static void vote8_k5w5_avx2(const float *restrict pad_range, const int32_t *restrict pad_class, int64_t pw,
                                           const int64_t *restrict point, int32_t *restrict base, float *restrict r, int count,
                                           const float *restrict weights, float cutoff, int32_t class_count,
                                           int32_t no_vote_class, const int32_t *restrict classes,
                                           const int32_t *restrict rows, const int32_t *restrict columns, int32_t width,
                                           int32_t *restrict votes, int32_t *restrict out) {
    for (int l = count; l < 8; l++) {
        base[l] = base[0];
        r[l] = r[0];
    }
    int32_t slots[40];
    float distances[40];
    search8_k5w5_avx2(pad_range, pw, base, r, weights, slots, distances);
    for (int l = 0; l < count; l++) {
        int32_t cls[5];
        for (int32_t j = 0; j < 5; j++) {
            const int32_t slot = slots[l * 5 + j];
            cls[j] = pad_class[base[l] + (slot / 5) * pw + slot % 5];
        }
        const int32_t winner = tally(cls, distances + l * 5, 5, cutoff, class_count, votes);
        const int64_t p = point[l];
        out[p] = winner >= 0 ? winner : (no_vote_class < 0 ? classes[(int64_t)rows[p] * width + columns[p]] : no_vote_class);
    }
}
#endif

/// One clean-up: its inputs, and the padded and `uniform` images every share reads.
struct knn_job {
    const float *range;
    const int32_t *classes;
    int32_t height, width;
    const int32_t *rows, *columns;
    const float *point_range;
    int32_t k, window;
    const float *weights;
    float cutoff;
    int32_t class_count, no_vote_class;
    int32_t *out;
    int64_t pw;
    float *pad_range;
    int32_t *pad_class, *uniform;
    int32_t *window_low, *window_high; // per pixel, over its row's window
    int vector;
    int skip_empty; // the cutoff is finite and positive: empty pixels never vote
    int failed; // set (atomically) by a share that ran out of memory
};

/// Rows begin..<end of the padded images, and of `window_low` and `window_high`: the smallest and largest
/// voting class among the `window` pixels of the row centred on each pixel, empty pixels left
/// out where they cannot vote (INT32_MAX and INT32_MIN when all are), a class that cannot vote
/// counting as -1; at the image's left and right edges -1 and INT32_MAX, so that no window
/// there is uniform. Branch-free, so that the compiler vectorises it.
static void knn_prepare_rows(void *context, int64_t begin, int64_t end) {
    struct knn_job *job = context;
    const int32_t width = job->width, half = job->window / 2, class_count = job->class_count, skip_empty = job->skip_empty;
    int32_t *restrict low_key = malloc(sizeof(int32_t) * (size_t)width), *restrict high_key = malloc(sizeof(int32_t) * (size_t)width);
    if (!low_key || !high_key) {
        free(low_key); free(high_key);
        __atomic_store_n(&job->failed, 1, __ATOMIC_RELAXED);
        return;
    }
    for (int64_t y = begin; y < end; y++) {
        const int32_t *line = job->classes + y * width;
        const float *ranges = job->range + y * width;
        // Each pixel's own entry first, then each window's.
        for (int32_t x = 0; x < width; x++) {
            const int32_t c = line[x];
            const int32_t key = c > 0 && c < class_count ? c : -1;
            const int32_t skip = skip_empty && ranges[x] < 0.0f;
            low_key[x] = skip ? INT32_MAX : key;
            high_key[x] = skip ? INT32_MIN : key;
        }
        int32_t *restrict low = job->window_low + y * width, *restrict high = job->window_high + y * width;
        for (int32_t x = 0; x < width; x++) {
            low[x] = x >= half && x + half < width ? INT32_MAX : -1;
            high[x] = x >= half && x + half < width ? INT32_MIN : INT32_MAX;
        }
        // One offset at a time over the whole row (no loop inside the pixel's), which vectorises.
        const int32_t inside = width - 2 * half;
        for (int32_t d = -half; inside > 0 && d <= half; d++) {
            int32_t *restrict lo = low + half, *restrict hi = high + half;
            const int32_t *restrict l = low_key + half + d, *restrict h = high_key + half + d;
            for (int32_t x = 0; x < inside; x++) {
                lo[x] = l[x] < lo[x] ? l[x] : lo[x];
                hi[x] = h[x] > hi[x] ? h[x] : hi[x];
            }
        }
        float *pad_line = job->pad_range + (y + half) * job->pw + half;
        for (int32_t x = 0; x < width; x++) pad_line[x] = ranges[x] < 0.0f ? __builtin_inff() : ranges[x]; // empty: infinitely far
        memcpy(job->pad_class + (y + half) * job->pw + half, line, sizeof(int32_t) * (size_t)width);
    }
    free(low_key); free(high_key);
}

/// Rows begin..<end of `uniform`: the window's one voting class where the smallest and the
/// largest over its `window` rows agree (the empty pixels aside), else -1; -1 in the top and
/// bottom rows, whose windows leave the image.
static void knn_uniform_rows(void *context, int64_t begin, int64_t end) {
    struct knn_job *job = context;
    const int32_t width = job->width, height = job->height, half = job->window / 2;
    int32_t *restrict hi = malloc(sizeof(int32_t) * (size_t)width);
    if (!hi) {
        __atomic_store_n(&job->failed, 1, __ATOMIC_RELAXED);
        return;
    }
    for (int64_t y = begin; y < end; y++) {
        int32_t *restrict lo = job->uniform + y * width;
        if (y < half || y + half >= height) {
            for (int32_t x = 0; x < width; x++) lo[x] = -1;
            continue;
        }
        for (int32_t x = 0; x < width; x++) {
            lo[x] = INT32_MAX;
            hi[x] = INT32_MIN;
        }
        // One row of the window at a time (no loop inside the pixel's), which vectorises.
        for (int32_t d = -half; d <= half; d++) {
            const int32_t *restrict l = job->window_low + (y + d) * width, *restrict h = job->window_high + (y + d) * width;
            for (int32_t x = 0; x < width; x++) {
                lo[x] = l[x] < lo[x] ? l[x] : lo[x];
                hi[x] = h[x] > hi[x] ? h[x] : hi[x];
            }
        }
        for (int32_t x = 0; x < width; x++) lo[x] = lo[x] == hi[x] && lo[x] >= 0 ? lo[x] : -1;
    }
    free(hi);
}

/// The votes of points begin..<end.
static void knn_points(void *context, int64_t begin, int64_t end) {
    struct knn_job *job = context;
    const int32_t k = job->k, window = job->window, slots = window * window, center = slots / 2, width = job->width;
    const int64_t pw = job->pw;
    const float *restrict pad_range = job->pad_range, *restrict weights = job->weights;
    const int32_t *restrict pad_class = job->pad_class, *restrict rows = job->rows, *restrict columns = job->columns;
    const float cutoff = job->cutoff;
    const int32_t class_count = job->class_count, no_vote_class = job->no_vote_class;
    int32_t *restrict out = job->out;
    int32_t *votes = calloc((size_t)(class_count > 0 ? class_count : 1), sizeof(int32_t));
    if (!votes) {
        __atomic_store_n(&job->failed, 1, __ATOMIC_RELAXED);
        return;
    }
    float distance[256];
    int32_t neighbour[256];
    uint64_t best[256];
#if RS_HAVE_AVX2_VARIANT
    int64_t lane_point[8];
    int32_t lane_base[8];
    float lane_range[8];
    int lanes = 0;
#endif
    for (int64_t i = begin; i < end; i++) {
        const int32_t row = rows[i], column = columns[i];
        if (row < 0) { out[i] = 0; continue; }
        const int32_t settled = job->uniform[(int64_t)row * width + column];
        if (settled >= 0) { out[i] = settled; continue; }
        const float r = job->point_range[i];
#if RS_HAVE_AVX2_VARIANT
        if (job->vector) { // gathered eight at a time; the last few after the loop
            lane_point[lanes] = i;
            lane_base[lanes] = (int32_t)((int64_t)row * pw + column);
            lane_range[lanes] = r;
            if (++lanes == 8) {
                vote8_k5w5_avx2(pad_range, pad_class, pw, lane_point, lane_base, lane_range, 8, weights, cutoff,
                                class_count, no_vote_class, job->classes, rows, columns, width, votes, out);
                lanes = 0;
            }
            continue;
        }
#endif
        // The window's top-left corner in the padded images is the point's pixel.
        for (int32_t dr = 0; dr < window; dr++) {
            const float *near = pad_range + (int64_t)(row + dr) * pw + column;
            const int32_t *cls = pad_class + (int64_t)(row + dr) * pw + column;
            for (int32_t dc = 0; dc < window; dc++) {
                const float d = near[dc] - r;
                distance[dr * window + dc] = (d < 0.0f ? -d : d) * weights[dr * window + dc];
                neighbour[dr * window + dc] = cls[dc];
            }
        }
        distance[center] = 0.0f * weights[center]; // the point itself, at its own range
        // The k smallest keys, kept sorted by a branch-free insertion: position j takes the
        // smaller of itself and the larger of position j - 1 and the new key.
        if (k == 5) { // RangeNet++'s k, with the five kept in registers
            uint64_t b0 = UINT64_MAX, b1 = UINT64_MAX, b2 = UINT64_MAX, b3 = UINT64_MAX, b4 = UINT64_MAX;
            for (int32_t slot = 0; slot < slots; slot++) {
                const uint64_t key = slot_key(distance[slot], slot);
                b4 = min_u64(b4, max_u64(b3, key));
                b3 = min_u64(b3, max_u64(b2, key));
                b2 = min_u64(b2, max_u64(b1, key));
                b1 = min_u64(b1, max_u64(b0, key));
                b0 = min_u64(b0, key);
            }
            best[0] = b0; best[1] = b1; best[2] = b2; best[3] = b3; best[4] = b4;
        } else {
            for (int32_t j = 0; j < k; j++) best[j] = UINT64_MAX;
            for (int32_t slot = 0; slot < slots; slot++) {
                const uint64_t key = slot_key(distance[slot], slot);
                for (int32_t j = k - 1; j > 0; j--) best[j] = min_u64(best[j], max_u64(best[j - 1], key));
                best[0] = min_u64(best[0], key);
            }
        }
        int32_t cls[256];
        float near[256];
        for (int32_t j = 0; j < k; j++) {
            const int32_t s = (int32_t)(best[j] & 0xFF);
            cls[j] = neighbour[s];
            near[j] = distance[s];
        }
        const int32_t winner = tally(cls, near, k, cutoff, class_count, votes);
        out[i] = winner >= 0 ? winner : (no_vote_class < 0 ? job->classes[(int64_t)row * width + column] : no_vote_class);
    }
#if RS_HAVE_AVX2_VARIANT
    if (lanes > 0) {
        vote8_k5w5_avx2(pad_range, pad_class, pw, lane_point, lane_base, lane_range, lanes, weights, cutoff,
                        class_count, no_vote_class, job->classes, rows, columns, width, votes, out);
    }
#endif
    free(votes);
}

// The three passes (rows of the padded images and the row windows, rows of `uniform`, the points) are
// each shared among threads with `rs_parallel_for`; every share writes its own rows or points.
int rs_range_knn(const float *restrict range, const int32_t *restrict classes, int32_t height, int32_t width,
                 const int32_t *restrict rows, const int32_t *restrict columns, const float *restrict point_range,
                 int64_t n, int32_t k, int32_t window, const float *restrict weights, float cutoff,
                 int32_t class_count, int32_t no_vote_class, int32_t *restrict out) {
    const int32_t slots = window * window, half = window / 2;
    const int64_t pw = (int64_t)width + 2 * half, ph = (int64_t)height + 2 * half;
    if (slots > 256 || k > slots) return -1;
    struct knn_job job = {
        .range = range, .classes = classes, .height = height, .width = width, .rows = rows, .columns = columns,
        .point_range = point_range, .k = k, .window = window, .weights = weights, .cutoff = cutoff,
        .class_count = class_count, .no_vote_class = no_vote_class, .out = out, .pw = pw,
        .pad_range = calloc((size_t)(pw * ph), sizeof(float)), // outside the image: range 0, class 0
        .pad_class = calloc((size_t)(pw * ph), sizeof(int32_t)),
        .uniform = malloc(sizeof(int32_t) * (size_t)height * (size_t)width),
        .window_low = malloc(sizeof(int32_t) * (size_t)height * (size_t)width),
        .window_high = malloc(sizeof(int32_t) * (size_t)height * (size_t)width),
    };
    job.skip_empty = cutoff > 0.0f && cutoff < __builtin_inff();
#if RS_HAVE_AVX2_VARIANT
    job.vector = k == 5 && window == 5 && rs_active_kernel_variant() == RS_KERNELS_AVX2;
#endif
    if (job.pad_range && job.pad_class && job.uniform && job.window_low && job.window_high) {
        rs_parallel_for(height, 8, knn_prepare_rows, &job);
        if (!job.failed) rs_parallel_for(height, 8, knn_uniform_rows, &job);
        if (!job.failed) rs_parallel_for(n, 8192, knn_points, &job);
    } else {
        job.failed = 1;
    }
    free(job.pad_range); free(job.pad_class); free(job.uniform);
    free(job.window_low); free(job.window_high);
    return job.failed ? -1 : 0;
}
