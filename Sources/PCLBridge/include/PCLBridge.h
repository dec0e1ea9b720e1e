// RangeSeg's bridge to the Point Cloud Library: a plain C interface, so that Swift sees no C++
// and no PCL header. Every PCL header stays in the bridge's .cpp files.
//
// Conventions:
// - Functions that can fail take `error` and `error_capacity` and, on failure, write a
//   NUL-terminated sentence there (without the file name: the Swift side adds it).
// - PCL prints nothing: the bridge silences PCL's console on first use.
// - Points are passed as SemanticKITTI stores them: four floats per point (x, y, z, remission).
#ifndef RANGESEG_PCL_BRIDGE_H
#define RANGESEG_PCL_BRIDGE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

// MARK: - Reading PCD and PLY files

/// A point cloud read from a file, with all of its fields (PCL's PCLPointCloud2). Opaque.
typedef struct RSCloud RSCloud;

/// Reads a PCD file (ascii, binary or binary_compressed). Returns NULL and fills `error` when
/// the file is missing, its header is malformed, or its data is truncated or corrupt.
RSCloud *_Nullable rs_cloud_read_pcd(const char *_Nonnull path, char *_Nonnull error, size_t error_capacity);

/// Reads a PLY file (ascii or binary) with a `vertex` element. Returns NULL and fills `error`
/// on failure.
RSCloud *_Nullable rs_cloud_read_ply(const char *_Nonnull path, char *_Nonnull error, size_t error_capacity);

void rs_cloud_free(RSCloud *_Nullable cloud);

/// Points in the cloud (width x height).
size_t rs_cloud_point_count(const RSCloud *_Nonnull cloud);
/// Columns of an organised cloud; the point count for an unorganised one.
uint32_t rs_cloud_width(const RSCloud *_Nonnull cloud);
/// Rows of an organised cloud; 1 for an unorganised one.
uint32_t rs_cloud_height(const RSCloud *_Nonnull cloud);

/// Number of fields (x, y, z, intensity, rgb, ...).
size_t rs_cloud_field_count(const RSCloud *_Nonnull cloud);
/// Name of field `index`; valid while the cloud lives.
const char *_Nonnull rs_cloud_field_name(const RSCloud *_Nonnull cloud, size_t index);
/// Index of the field called `name`, or -1.
int rs_cloud_find_field(const RSCloud *_Nonnull cloud, const char *_Nonnull name);

/// Copies field `field` (any numeric type, one element per point) of every point, converted to
/// float, to `out[i * stride]`. Returns 0, or -1 with `error` filled.
int rs_cloud_copy_float(const RSCloud *_Nonnull cloud, int field, float *_Nonnull out, size_t stride,
                        char *_Nonnull error, size_t error_capacity);

/// Copies field `field` of every point to `out[i]` as an unsigned 32-bit integer: integer fields
/// by value, float fields by value when they hold whole numbers 0 to 2^32-1 (an error otherwise).
int rs_cloud_copy_uint32(const RSCloud *_Nonnull cloud, int field, uint32_t *_Nonnull out,
                         char *_Nonnull error, size_t error_capacity);

/// Copies the packed colour of field `field` (`rgb` or `rgba`, 4 bytes: 0xAARRGGBB on a
/// little-endian machine, whatever its declared type) of every point to `out[i]`.
int rs_cloud_copy_rgb(const RSCloud *_Nonnull cloud, int field, uint32_t *_Nonnull out,
                      char *_Nonnull error, size_t error_capacity);

// MARK: - Writing PCD files

typedef enum RSPCDEncoding {
    RS_PCD_ASCII = 0,
    RS_PCD_BINARY = 1,
    RS_PCD_BINARY_COMPRESSED = 2,
} RSPCDEncoding;

/// Writes `count` points as an unorganised PCD file at `path` (overwriting it; callers write
/// to a temporary path and rename). Fields: x y z (float), `remission_field` (float), then
/// `label` (uint32) when `labels` is not NULL, then `rgb` (PCL's packed colour, 0xAARRGGBB)
/// when `rgb` is not NULL. ASCII files carry 9 significant digits, enough to read back
/// every float exactly. Returns 0, or -1 with `error` filled.
int rs_pcd_write(const char *_Nonnull path, RSPCDEncoding encoding,
                 const float *_Nonnull xyzr, size_t count, const char *_Nonnull remission_field,
                 const uint32_t *_Nullable labels, const uint32_t *_Nullable rgb,
                 char *_Nonnull error, size_t error_capacity);

// MARK: - Nearest neighbours in 3-D

/// For each of `count` points (x, y, z at `xyzr[i * 4]`, the fourth value ignored), finds its
/// `k` nearest points in 3-D with PCL's k-d tree (FLANN), itself included, and keeps those
/// within `radius` metres. Writes their indices, nearest first, to `indices[i * k ...]`,
/// padding with -1. Points with a NaN or infinite coordinate neither search nor are found: their
/// rows are all -1. `threads` (>= 1) workers share the queries. Returns 0, or -1 with `error`.
int rs_knn_search(const float *_Nonnull xyzr, size_t count, int k, float radius, int threads,
                  int32_t *_Nonnull indices, char *_Nonnull error, size_t error_capacity);

#ifdef __cplusplus
}
#endif

#endif
