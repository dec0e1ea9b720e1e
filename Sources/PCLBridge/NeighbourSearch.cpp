// k nearest neighbours in 3-D with PCL's k-d tree (FLANN), for the 3-D label clean-up.
#include "BridgeSupport.hpp"
#include "PCLBridge.h"

#include <pcl/kdtree/kdtree_flann.h>
#include <pcl/point_cloud.h>
#include <pcl/point_types.h>

#include <algorithm>
#include <cmath>
#include <thread>
#include <vector>

using rangeseg_bridge::fail;
using rangeseg_bridge::guarded;

extern "C" int rs_knn_search(const float *xyzr, size_t count, int k, float radius, int threads, int32_t *indices,
                             char *error, size_t capacity) {
    return guarded<int>(error, capacity, -1, [&] {
        if (k < 1) {
            fail(error, capacity, "k must be at least 1 (it is %d)", k);
            return -1;
        }
        if (!(radius > 0)) {
            fail(error, capacity, "the radius must be positive (it is %g)", static_cast<double>(radius));
            return -1;
        }
        if (count > static_cast<size_t>(INT32_MAX)) {
            fail(error, capacity, "%zu points are too many for 32-bit indices", count);
            return -1;
        }
        std::fill(indices, indices + count * static_cast<size_t>(k), -1);

        // The tree holds the finite points only; `original` maps its indices back.
        auto cloud = pcl::make_shared<pcl::PointCloud<pcl::PointXYZ>>();
        std::vector<int32_t> original;
        cloud->reserve(count);
        original.reserve(count);
        for (size_t i = 0; i < count; ++i) {
            const float *p = xyzr + 4 * i;
            if (std::isfinite(p[0]) && std::isfinite(p[1]) && std::isfinite(p[2])) {
                cloud->push_back(pcl::PointXYZ(p[0], p[1], p[2]));
                original.push_back(static_cast<int32_t>(i));
            }
        }
        if (cloud->empty()) return 0;
        pcl::KdTreeFLANN<pcl::PointXYZ> tree; // results sorted by distance
        tree.setInputCloud(cloud);

        const float limit = radius * radius;
        const size_t n = cloud->size();
        auto work = [&](size_t begin, size_t end) {
            pcl::Indices found;
            std::vector<float> distances;
            for (size_t j = begin; j < end; ++j) {
                tree.nearestKSearch((*cloud)[j], k, found, distances);
                int32_t *row = indices + static_cast<size_t>(original[j]) * k;
                int used = 0;
                for (size_t m = 0; m < found.size() && used < k; ++m) {
                    if (distances[m] <= limit) row[used++] = original[found[m]];
                }
            }
        };
        const size_t workers = static_cast<size_t>(std::max(1, std::min(threads, 64)));
        if (workers == 1 || n < 4096) {
            work(0, n);
        } else {
            std::vector<std::thread> pool;
            const size_t chunk = (n + workers - 1) / workers;
            for (size_t w = 0; w < workers; ++w) {
                size_t begin = w * chunk, end = std::min(n, begin + chunk);
                if (begin < end) pool.emplace_back(work, begin, end);
            }
            for (auto &t : pool) t.join();
        }
        return 0;
    });
}
