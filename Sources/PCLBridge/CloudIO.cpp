// PCD and PLY files through PCL's readers and PCD writer.
//
// PCL's readers report problems on the console (silenced here) and are lenient in places: an
// ASCII PCD line with the wrong number of values is skipped with a warning, leaving a point of
// zeros. So the bridge checks the file itself, before and after PCL reads it, and words each
// problem: truncated data, malformed lines, a header that promises more points than follow.
#include "BridgeSupport.hpp"
#include "PCLBridge.h"

#include <pcl/PCLPointCloud2.h>
#include <pcl/io/lzf.h>
#include <pcl/io/pcd_io.h>
#include <pcl/io/ply_io.h>

#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <climits>
#include <cstdlib>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

struct RSCloud {
    pcl::PCLPointCloud2 cloud;
};

namespace {
using rangeseg_bridge::fail;
using rangeseg_bridge::guarded;

const char *typeName(uint8_t datatype) {
    switch (datatype) {
    case pcl::PCLPointField::BOOL: return "bool";
    case pcl::PCLPointField::INT8: return "int8";
    case pcl::PCLPointField::UINT8: return "uint8";
    case pcl::PCLPointField::INT16: return "int16";
    case pcl::PCLPointField::UINT16: return "uint16";
    case pcl::PCLPointField::INT32: return "int32";
    case pcl::PCLPointField::UINT32: return "uint32";
    case pcl::PCLPointField::INT64: return "int64";
    case pcl::PCLPointField::UINT64: return "uint64";
    case pcl::PCLPointField::FLOAT32: return "float32";
    case pcl::PCLPointField::FLOAT64: return "float64";
    default: return "unknown";
    }
}

/// The size of a regular file, or false with `error` filled.
bool fileSize(const char *path, uint64_t &size, char *error, size_t capacity) {
    struct stat info {};
    if (stat(path, &info) != 0) {
        if (errno == ENOENT) fail(error, capacity, "no such file");
        else fail(error, capacity, "cannot read: %s", std::strerror(errno));
        return false;
    }
    if (S_ISDIR(info.st_mode)) {
        fail(error, capacity, "is a directory, not a point cloud file");
        return false;
    }
    size = static_cast<uint64_t>(info.st_size);
    if (size == 0) {
        fail(error, capacity, "empty file (0 bytes)");
        return false;
    }
    return true;
}

/// Whether `token` is a number as PCD's ASCII data writes them (or nan).
bool isNumber(const std::string &token) {
    if (strcasecmp(token.c_str(), "nan") == 0) return true;
    char *end = nullptr;
    errno = 0;
    std::strtod(token.c_str(), &end);
    return end != token.c_str() && *end == '\0';
}

/// Splits `line` at spaces, tabs and carriage returns into `tokens` (cleared first), as
/// `pcl::split(st, line, "\t\r ")` has them.
void splitTokens(const std::string &line, std::vector<std::string> &tokens) {
    tokens.clear();
    size_t i = 0;
    while (i < line.size()) {
        while (i < line.size() && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r')) ++i;
        size_t start = i;
        while (i < line.size() && line[i] != ' ' && line[i] != '\t' && line[i] != '\r') ++i;
        if (i > start) tokens.emplace_back(line, start, i - start);
    }
}

/// Checks the data lines of an ASCII PCD: one line per point, each with the number of values
/// the header's FIELDS and COUNT call for, each a number.
bool checkASCIIData(const char *path, unsigned dataStart, const pcl::PCLPointCloud2 &cloud,
                    char *error, size_t capacity) {
    std::ifstream file(path, std::ios::binary);
    if (!file) {
        fail(error, capacity, "cannot open: %s", std::strerror(errno));
        return false;
    }
    std::string header(dataStart, '\0');
    file.read(header.data(), dataStart);
    size_t lineNumber = static_cast<size_t>(std::count(header.begin(), header.end(), '\n'));
    size_t valuesPerPoint = 0;
    for (const auto &field : cloud.fields) valuesPerPoint += field.count;
    const size_t expected = static_cast<size_t>(cloud.width) * cloud.height;

    size_t points = 0;
    std::string line;
    std::vector<std::string> tokens;
    while (std::getline(file, line)) {
        ++lineNumber;
        splitTokens(line, tokens);
        if (tokens.empty()) continue;
        if (points == expected) {
            fail(error, capacity, "line %zu: more data lines than the %zu points its header's POINTS announces",
                 lineNumber, expected);
            return false;
        }
        if (tokens.size() != valuesPerPoint) {
            bool last = file.peek() == std::char_traits<char>::eof();
            fail(error, capacity, "line %zu (point %zu): %zu values where the header's FIELDS call for %zu%s",
                 lineNumber, points, tokens.size(), valuesPerPoint,
                 last ? "; the file is truncated" : "");
            return false;
        }
        for (size_t t = 0; t < tokens.size(); ++t) {
            if (!isNumber(tokens[t])) {
                fail(error, capacity, "line %zu (point %zu): '%s' is not a number", lineNumber, points,
                     tokens[t].c_str());
                return false;
            }
        }
        ++points;
    }
    if (points != expected) {
        fail(error, capacity, "holds %zu points but its header promises %zu (WIDTH %u x HEIGHT %u); the file is truncated",
             points, expected, cloud.width, cloud.height);
        return false;
    }
    return true;
}

/// Before PCL reads a PCD header: PCL 1.13's readHeader allocates POINTS x the point size at
/// each POINTS line, from whatever the header says so far (and it reads on after DATA while
/// lines look like header lines). This pass follows the same lines as PCL does and refuses what
/// could make that allocation larger than the file can fill: SIZE entries other than 1, 2, 4, 8,
/// COUNT entries outside 0 to 2^24 or for fields without a SIZE, and POINTS x the point size past
/// the file's size (8 times it for ASCII, where a value takes at least 2 characters and at most
/// 8 bytes; 88 times for LZF-compressed data).
bool checkPCDHeaderSizes(const char *path, uint64_t size, char *error, size_t capacity) {
    std::ifstream file(path, std::ios::binary);
    std::string line;
    std::vector<uint64_t> sizes;
    uint64_t fields = 0, step = 0; // PCL's field count and point_step as it goes
    uint64_t largest = 0;          // the largest POINTS x point_step
    unsigned long long largestPoints = 0, largestStep = 0;
    int dataType = -1;
    size_t lineNumber = 0;
    auto number = [](const std::string &token, unsigned long long &value) {
        char *end = nullptr;
        errno = 0;
        value = std::strtoull(token.c_str(), &end, 10);
        return !token.empty() && token[0] != '-' && *end == '\0' && errno == 0;
    };
    // TYPE and COUNT lines need a SIZE entry for each of their fields.
    auto sizedFields = [&](const char *keyword) {
        if (sizes.size() >= fields) return true;
        fail(error, capacity, "line %zu: %s for %llu fields after a SIZE for %zu", lineNumber, keyword,
             (unsigned long long)fields, sizes.size());
        return false;
    };
    while (std::getline(file, line)) {
        ++lineNumber;
        if (line.empty()) continue;
        std::vector<std::string> tokens;
        splitTokens(line, tokens);
        std::istringstream words(line);
        std::string type;
        words >> type;
        auto is = [&](const char *keyword) { return type.compare(0, std::strlen(keyword), keyword) == 0; };
        const uint64_t entries = tokens.empty() ? 0 : tokens.size() - 1;
        if (type.empty() || is("#") || is("VERSION") || is("WIDTH") || is("HEIGHT") || is("VIEWPOINT")) continue;
        if (is("FIELDS") || is("COLUMNS")) {
            fields = entries;
            step = 4 * fields;
        } else if (is("SIZE")) {
            if (entries != fields) break; // PCL stops here
            sizes.clear();
            step = 0;
            for (size_t t = 1; t < tokens.size(); ++t) {
                unsigned long long v = 0;
                if (!number(tokens[t], v) || (v != 1 && v != 2 && v != 4 && v != 8)) {
                    fail(error, capacity, "line %zu: SIZE entry '%s' is not 1, 2, 4 or 8", lineNumber, tokens[t].c_str());
                    return false;
                }
                sizes.push_back(v);
                step += v;
            }
        } else if (is("TYPE")) {
            if (sizes.empty() || entries != fields) break;
            if (!sizedFields("TYPE")) return false;
        } else if (is("COUNT")) {
            if (sizes.empty() || entries != fields) break;
            if (!sizedFields("COUNT")) return false;
            step = 0;
            for (size_t t = 1; t < tokens.size(); ++t) {
                unsigned long long v = 0;
                if (!number(tokens[t], v) || v > (1u << 24)) {
                    fail(error, capacity, "line %zu: COUNT entry '%s' is not a count from 0 to 16777216", lineNumber,
                         tokens[t].c_str());
                    return false;
                }
                step += v * sizes[t - 1];
            }
        } else if (is("POINTS")) {
            if (step == 0) break;
            unsigned long long points = 0;
            words >> points; // as PCL reads it: the leading number, 0 without one
            if (words.fail()) points = 0;
            if (tokens.size() > 1 && tokens[1][0] == '-') points = ULLONG_MAX; // wraps in PCL's size_t
            unsigned long long bytes = 0;
            if (__builtin_mul_overflow(points, static_cast<unsigned long long>(step), &bytes)) bytes = ULLONG_MAX;
            if (bytes >= largest) {
                largest = bytes;
                largestPoints = points;
                largestStep = step;
            }
        } else if (is("DATA")) {
            const std::string kind = tokens.size() > 1 ? tokens[1] : "";
            dataType = kind.compare(0, 17, "binary_compressed") == 0 ? 2 : kind.compare(0, 6, "binary") == 0 ? 1 : 0;
        } else {
            break; // where PCL's header ends
        }
    }
    const uint64_t factor = dataType == 2 ? 88 : dataType == 1 ? 1 : 8;
    if (largest / factor > size) {
        fail(error, capacity, "POINTS %llu of %llu bytes each are more than a %llu-byte file can hold", largestPoints,
             largestStep, (unsigned long long)size);
        return false;
    }
    return true;
}

/// Checks that a binary or binary_compressed PCD holds all the bytes its header promises.
bool checkBinaryData(const char *path, unsigned dataStart, bool compressed, uint64_t size,
                     const pcl::PCLPointCloud2 &cloud, char *error, size_t capacity) {
    const uint64_t points = static_cast<uint64_t>(cloud.width) * cloud.height;
    const uint64_t bytes = points * cloud.point_step;
    if (!compressed) {
        if (size < dataStart + bytes) {
            uint64_t have = size > dataStart ? size - dataStart : 0;
            fail(error, capacity,
                 "truncated: the header promises %llu points of %u bytes (%llu bytes of data) but only %llu bytes follow it (%llu whole points)",
                 (unsigned long long)points, cloud.point_step, (unsigned long long)bytes,
                 (unsigned long long)have, (unsigned long long)(cloud.point_step ? have / cloud.point_step : 0));
            return false;
        }
        return true;
    }
    if (size < dataStart + 8) {
        fail(error, capacity, "truncated: the binary_compressed data ends before its 8-byte size prefix");
        return false;
    }
    std::ifstream file(path, std::ios::binary);
    file.seekg(dataStart);
    uint32_t sizes[2] = {0, 0};
    file.read(reinterpret_cast<char *>(sizes), sizeof sizes);
    if (!file) {
        fail(error, capacity, "cannot read the binary_compressed size prefix");
        return false;
    }
    // LZF turns at most 3 bytes into 264 (a back reference of maximal length), so a small
    // payload announcing gigabytes is corrupt: refuse it before PCL allocates the gigabytes.
    if (static_cast<uint64_t>(sizes[1]) > 88ull * sizes[0]) {
        fail(error, capacity,
             "corrupt: %u bytes of compressed data cannot unpack to the %u bytes announced (LZF expands at most 88 times)",
             sizes[0], sizes[1]);
        return false;
    }
    if (sizes[1] != bytes) {
        fail(error, capacity,
             "corrupt: the compressed data unpacks to %u bytes but the header's %llu points of %u bytes need %llu",
             sizes[1], (unsigned long long)points, cloud.point_step, (unsigned long long)bytes);
        return false;
    }
    if (size < dataStart + 8ull + sizes[0]) {
        fail(error, capacity, "truncated: %u bytes of compressed data are announced but only %llu follow",
             sizes[0], (unsigned long long)(size - dataStart - 8));
        return false;
    }
    return true;
}

/// One property of a PLY element: `property float x` or `property list uchar int vertex_indices`.
struct PLYProperty {
    std::string name;
    std::string type; // the item type of a list
    bool isList = false;
};

/// One element of a PLY header (`vertex`, `face`, ...).
struct PLYElement {
    std::string name;
    uint64_t count = 0;
    size_t properties = 0;
    size_t rowBytes = 0; // for binary data: exact without lists, the least with them
    bool hasList = false;
    std::vector<PLYProperty> list;
};

size_t plyTypeSize(const std::string &type) {
    if (type == "char" || type == "uchar" || type == "int8" || type == "uint8") return 1;
    if (type == "short" || type == "ushort" || type == "int16" || type == "uint16") return 2;
    if (type == "int" || type == "uint" || type == "float" || type == "int32" || type == "uint32" || type == "float32") return 4;
    if (type == "double" || type == "float64") return 8;
    return 0;
}

bool isColor(const PLYProperty &p, const char *name) {
    return !p.isList && (p.type == "uchar" || p.type == "uint8") &&
           (p.name == name || p.name == std::string("diffuse_") + name);
}

/// Checks what PCL 1.13's PLY reader assumes of a header and, when wrong, answers with an
/// `assert(false)` that ends the process (or with writes at stale offsets): one `vertex`
/// element of scalar properties; uchar colours as `red green blue` in a row, `alpha` right after
/// them; `obj_info num_cols` and `num_rows` together and matching the vertex count.
bool checkPLYHeader(const std::vector<PLYElement> &elements, long long columns, long long rows, char *error,
                    size_t capacity) {
    const PLYElement *vertex = nullptr;
    for (const auto &e : elements) {
        if (e.name != "vertex") continue;
        if (vertex) {
            fail(error, capacity, "the header has two 'vertex' elements");
            return false;
        }
        vertex = &e;
    }
    if (!vertex) return true; // PCL words it
    const auto &p = vertex->list;
    for (size_t i = 0; i < p.size(); ++i) {
        if (p[i].isList) {
            fail(error, capacity, "vertex property '%s' is a list; point cloud vertices hold scalar properties only",
                 p[i].name.c_str());
            return false;
        }
    }
    for (size_t i = 0; i < p.size(); ++i) {
        bool red = isColor(p[i], "red"), green = isColor(p[i], "green"), blue = isColor(p[i], "blue");
        bool alpha = !p[i].isList && (p[i].type == "uchar" || p[i].type == "uint8") && p[i].name == "alpha";
        if (red) {
            if (i + 2 < p.size() && isColor(p[i + 1], "green") && isColor(p[i + 2], "blue")) {
                i += 2;
                if (i + 1 < p.size() && p[i + 1].name == "alpha") ++i;
                continue;
            }
        }
        if (red || green || blue || alpha) {
            fail(error, capacity,
                 "vertex property '%s': uchar colours must be red, green and blue in a row (alpha right after them)",
                 p[i].name.c_str());
            return false;
        }
    }
    if (columns >= 0 || rows >= 0) {
        if (columns < 0 || rows < 0 || static_cast<unsigned long long>(columns) * static_cast<unsigned long long>(rows) != vertex->count) {
            fail(error, capacity, "obj_info num_cols %lld and num_rows %lld do not describe the %llu vertices", columns, rows,
                 (unsigned long long)vertex->count);
            return false;
        }
    }
    return true;
}

/// Checks that a PLY file holds the data its header announces: every line (ASCII, with the
/// right number of values where the element has no lists) or every byte (binary, when no
/// element has lists). Leaves other problems to PCL's parser.
bool checkPLYData(const char *path, uint64_t size, char *error, size_t capacity) {
    std::ifstream file(path, std::ios::binary);
    std::string line, format;
    std::vector<PLYElement> elements;
    size_t lineNumber = 0;
    bool ended = false;
    long long columns = -1, rows = -1; // from obj_info num_cols, num_rows
    while (std::getline(file, line)) {
        ++lineNumber;
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (!line.empty() && std::isspace(static_cast<unsigned char>(line[0]))) {
            // PCL splits obj_info lines at white space and asserts that the first word is obj_info.
            fail(error, capacity, "line %zu: header lines start with their keyword, not with white space", lineNumber);
            return false;
        }
        std::istringstream words(line);
        std::string keyword;
        words >> keyword;
        if (keyword == "obj_info") {
            std::string key, value;
            words >> key >> value;
            if (key == "num_cols" || key == "num_rows") {
                char *end = nullptr;
                errno = 0;
                long long number = std::strtoll(value.c_str(), &end, 10);
                if (value.empty() || *end != '\0' || errno != 0 || number < 0 || number > INT32_MAX) {
                    fail(error, capacity, "line %zu: obj_info %s '%s' is not a count", lineNumber, key.c_str(), value.c_str());
                    return false;
                }
                (key == "num_cols" ? columns : rows) = number;
            }
        } else if (keyword == "format") {
            words >> format;
        } else if (keyword == "element") {
            PLYElement element;
            words >> element.name >> element.count;
            if (!words) {
                fail(error, capacity, "line %zu: malformed element line '%s'", lineNumber, line.c_str());
                return false;
            }
            if (element.count > UINT32_MAX) {
                fail(error, capacity, "line %zu: %llu '%s' elements are more than a point cloud holds (at most %u)",
                     lineNumber, (unsigned long long)element.count, element.name.c_str(), UINT32_MAX);
                return false;
            }
            elements.push_back(element);
        } else if (keyword == "property") {
            if (elements.empty()) {
                fail(error, capacity, "line %zu: a property before any element", lineNumber);
                return false;
            }
            PLYProperty property;
            std::string type;
            words >> type;
            auto &element = elements.back();
            element.properties += 1;
            if (type == "list") {
                // Each row holds at least the list's length.
                std::string countType;
                words >> countType >> property.type >> property.name;
                if (plyTypeSize(countType) == 0 || plyTypeSize(property.type) == 0) {
                    fail(error, capacity, "line %zu: list property with unknown types '%s' and '%s'", lineNumber,
                         countType.c_str(), property.type.c_str());
                    return false;
                }
                property.isList = true;
                element.hasList = true;
                element.rowBytes += plyTypeSize(countType);
            } else {
                property.type = type;
                words >> property.name;
                if (plyTypeSize(type) == 0) {
                    fail(error, capacity, "line %zu: property '%s' has the unknown type '%s'", lineNumber,
                         property.name.c_str(), type.c_str());
                    return false;
                }
                element.rowBytes += plyTypeSize(type);
            }
            element.list.push_back(property);
        } else if (keyword == "end_header") {
            ended = true;
            break;
        }
    }
    if (!ended) {
        fail(error, capacity, "the header has no end_header line (truncated within its header, or not a PLY file)");
        return false;
    }
    if (!checkPLYHeader(elements, columns, rows, error, capacity)) return false;
    const uint64_t dataStart = static_cast<uint64_t>(file.tellg());
    if (format == "ascii") {
        size_t element = 0;
        uint64_t seen = 0, total = 0;
        for (const auto &e : elements) total += e.count;
        uint64_t lines = 0;
        while (element < elements.size() && elements[element].count == 0) ++element;
        while (element < elements.size() && std::getline(file, line)) {
            ++lineNumber;
            std::istringstream words(line);
            std::string word;
            size_t values = 0;
            while (words >> word) ++values;
            if (values == 0) continue;
            const auto &e = elements[element];
            if (!e.hasList && values != e.properties) {
                bool last = file.peek() == std::char_traits<char>::eof();
                fail(error, capacity, "line %zu (%s %llu): %zu values where the header's properties call for %zu%s",
                     lineNumber, e.name.c_str(), (unsigned long long)seen, values, e.properties,
                     last ? "; the file is truncated" : "");
                return false;
            }
            ++lines;
            if (++seen == e.count) {
                seen = 0;
                ++element;
                while (element < elements.size() && elements[element].count == 0) ++element;
            }
        }
        if (lines < total) {
            fail(error, capacity, "holds %llu data lines but its header announces %llu (%s); the file is truncated",
                 (unsigned long long)lines, (unsigned long long)total,
                 elements.empty() ? "no elements" : (std::to_string(elements[0].count) + " " + elements[0].name).c_str());
            return false;
        }
        return true;
    }
    if (format != "binary_little_endian" && format != "binary_big_endian") return true; // PCL words it
    // Counts are at most 2^32 - 1 and rows a few bytes per property of the header, so the sum
    // cannot overflow. With lists the sizes vary: the least a file can hold is checked here, and
    // PCL's parser finds any other short file.
    uint64_t bytes = 0;
    bool lists = false;
    for (const auto &e : elements) {
        bytes += e.count * e.rowBytes;
        lists = lists || e.hasList;
    }
    if (lists && size < dataStart + bytes) {
        fail(error, capacity,
             "truncated: the header announces elements of at least %llu bytes in all but only %llu bytes follow it",
             (unsigned long long)bytes, (unsigned long long)(size - dataStart));
        return false;
    }
    if (lists) return true;
    if (size < dataStart + bytes) {
        const auto &e = elements.front();
        uint64_t have = size - dataStart;
        fail(error, capacity,
             "truncated: the header announces %llu '%s' elements of %zu bytes (%llu bytes of data) but only %llu bytes follow it (%llu whole elements)",
             (unsigned long long)e.count, e.name.c_str(), e.rowBytes, (unsigned long long)bytes, (unsigned long long)have,
             (unsigned long long)(e.rowBytes ? have / e.rowBytes : 0));
        return false;
    }
    return true;
}

/// After PCL read a cloud: its data holds exactly width x height points.
bool checkShape(const pcl::PCLPointCloud2 &cloud, char *error, size_t capacity) {
    const uint64_t points = static_cast<uint64_t>(cloud.width) * cloud.height;
    if (points > UINT32_MAX) {
        fail(error, capacity, "corrupt: %u x %u points are more than a point cloud holds (at most %u)", cloud.width,
             cloud.height, UINT32_MAX);
        return false;
    }
    if (cloud.data.size() != points * cloud.point_step) {
        fail(error, capacity, "corrupt: %zu bytes of point data for %llu points of %u bytes", cloud.data.size(),
             (unsigned long long)points, cloud.point_step);
        return false;
    }
    for (const auto &field : cloud.fields) {
        size_t end = field.offset + static_cast<size_t>(pcl::getFieldSize(field.datatype)) * std::max(field.count, 1u);
        if (end > cloud.point_step) {
            fail(error, capacity, "corrupt: field '%s' lies outside the %u-byte point", field.name.c_str(), cloud.point_step);
            return false;
        }
    }
    return true;
}

template <typename T>
T valueAt(const pcl::PCLPointCloud2 &cloud, size_t point, const pcl::PCLPointField &field) {
    T value;
    std::memcpy(&value, cloud.data.data() + point * cloud.point_step + field.offset, sizeof(T));
    return value;
}

/// The value of a numeric field of point `i`, as double.
double numberAt(const pcl::PCLPointCloud2 &cloud, size_t i, const pcl::PCLPointField &field) {
    switch (field.datatype) {
    case pcl::PCLPointField::BOOL: return valueAt<uint8_t>(cloud, i, field);
    case pcl::PCLPointField::INT8: return valueAt<int8_t>(cloud, i, field);
    case pcl::PCLPointField::UINT8: return valueAt<uint8_t>(cloud, i, field);
    case pcl::PCLPointField::INT16: return valueAt<int16_t>(cloud, i, field);
    case pcl::PCLPointField::UINT16: return valueAt<uint16_t>(cloud, i, field);
    case pcl::PCLPointField::INT32: return valueAt<int32_t>(cloud, i, field);
    case pcl::PCLPointField::UINT32: return valueAt<uint32_t>(cloud, i, field);
    case pcl::PCLPointField::INT64: return static_cast<double>(valueAt<int64_t>(cloud, i, field));
    case pcl::PCLPointField::UINT64: return static_cast<double>(valueAt<uint64_t>(cloud, i, field));
    case pcl::PCLPointField::FLOAT32: return valueAt<float>(cloud, i, field);
    case pcl::PCLPointField::FLOAT64: return valueAt<double>(cloud, i, field);
    default: return std::nan("");
    }
}

bool checkField(const RSCloud *cloud, int index, char *error, size_t capacity) {
    if (index < 0 || static_cast<size_t>(index) >= cloud->cloud.fields.size()) {
        fail(error, capacity, "no field number %d", index);
        return false;
    }
    const auto &field = cloud->cloud.fields[index];
    if (field.count != 1) {
        fail(error, capacity, "field '%s' has %u values per point; one is expected", field.name.c_str(), field.count);
        return false;
    }
    if (pcl::getFieldSize(field.datatype) == 0) {
        fail(error, capacity, "field '%s' has an unknown type (%d)", field.name.c_str(), field.datatype);
        return false;
    }
    return true;
}

/// A PCD file's header as PCL's reader parses it.
struct PCDHeader {
    pcl::PCLPointCloud2 cloud; // the fields, WIDTH and HEIGHT, no data
    int dataType = 0;          // 0 ascii, 1 binary, 2 binary_compressed
    unsigned dataStart = 0;    // the data's offset; 0 or (unsigned)-1 without a DATA line PCL could place
    /// Reads the header of the PCD file at `path`; false where PCL cannot parse it.
    bool read(const char *path) {
        pcl::PCDReader reader;
        Eigen::Vector4f origin;
        Eigen::Quaternionf orientation;
        int version = 0;
        return reader.readHeader(path, cloud, origin, orientation, version, dataType, dataStart) >= 0;
    }
};

/// PCL 1.13's binary writers size the file in whole memory pages, leaving zeros after the data
/// (a page's worth for `binary`). Cuts a file PCL just wrote to the end of its data.
bool trimPagePadding(const char *path, bool compressed, size_t dataBytes, char *error, size_t capacity) {
    uint64_t size = 0;
    if (!fileSize(path, size, error, capacity)) return false;
    PCDHeader header;
    if (!header.read(path) || header.dataStart == 0) {
        fail(error, capacity, "PCL wrote a file whose header it cannot read back");
        return false;
    }
    uint64_t end = header.dataStart + static_cast<uint64_t>(dataBytes);
    if (compressed) {
        std::ifstream file(path, std::ios::binary);
        file.seekg(header.dataStart);
        uint32_t compressedSize = 0;
        file.read(reinterpret_cast<char *>(&compressedSize), 4);
        if (!file) {
            fail(error, capacity, "PCL wrote a binary_compressed file without its size prefix");
            return false;
        }
        end = header.dataStart + 8ull + compressedSize;
    }
    if (end > size) {
        fail(error, capacity, "PCL wrote %llu bytes where %llu were expected", (unsigned long long)size,
             (unsigned long long)end);
        return false;
    }
    if (end < size && truncate(path, static_cast<off_t>(end)) != 0) {
        fail(error, capacity, "cannot trim the file: %s", std::strerror(errno));
        return false;
    }
    return true;
}

/// PCL 1.13 unpacks binary_compressed data wrongly when the header has `_` padding fields: it
/// takes the field-by-field arrays without the padding's and lays the points out at a stride
/// that leaves the padding out while the field offsets count it, so points overwrite each other.
/// (Its own writer drops `_` fields from compressed files; other writers keep them.) The data
/// must unpack to POINTS x the full point size (the header check asks that), so the one layout
/// that fits is an array for every field in header order, padding included: unpacked here.
bool unpackCompressedWithPadding(const char *path, unsigned dataStart, pcl::PCLPointCloud2 &cloud, char *error,
                                 size_t capacity) {
    std::ifstream file(path, std::ios::binary);
    file.seekg(dataStart);
    uint32_t sizes[2] = {0, 0};
    file.read(reinterpret_cast<char *>(sizes), sizeof sizes);
    std::vector<char> packed(sizes[0]);
    if (file) file.read(packed.data(), static_cast<std::streamsize>(packed.size()));
    if (!file) {
        fail(error, capacity, "cannot read the binary_compressed data");
        return false;
    }
    std::vector<char> arrays(sizes[1]);
    if (sizes[1] > 0 && pcl::lzfDecompress(packed.data(), sizes[0], arrays.data(), sizes[1]) != sizes[1]) {
        fail(error, capacity, "corrupt: the compressed data does not unpack to the %u bytes announced", sizes[1]);
        return false;
    }
    const size_t points = static_cast<size_t>(cloud.width) * cloud.height;
    cloud.data.assign(points * cloud.point_step, 0);
    size_t start = 0;
    for (const auto &field : cloud.fields) {
        const size_t bytes = static_cast<size_t>(field.count) * pcl::getFieldSize(field.datatype);
        if (field.offset + bytes > cloud.point_step || start + points * bytes > arrays.size()) {
            fail(error, capacity, "corrupt: field '%s' does not fit the %u-byte point", field.name.c_str(), cloud.point_step);
            return false;
        }
        for (size_t i = 0; i < points; ++i)
            std::memcpy(&cloud.data[i * cloud.point_step + field.offset], &arrays[start + i * bytes], bytes);
        start += points * bytes;
    }
    return true;
}

/// Runs `copy(cloud, field, points)` on field `index` of `cloud` once `checkField` accepts it:
/// 0, or -1 with `error` filled (by the check, `copy` or an exception).
template <typename Copy>
int copyField(const RSCloud *cloud, int index, char *error, size_t capacity, Copy copy) {
    return guarded<int>(error, capacity, -1, [&] {
        if (!checkField(cloud, index, error, capacity)) return -1;
        const auto &c = cloud->cloud;
        return copy(c, c.fields[index], static_cast<size_t>(c.width) * c.height);
    });
}

} // namespace

// MARK: - Reading

extern "C" RSCloud *rs_cloud_read_pcd(const char *path, char *error, size_t capacity) {
    return guarded<RSCloud *>(error, capacity, nullptr, [&]() -> RSCloud * {
        uint64_t size = 0;
        if (!fileSize(path, size, error, capacity)) return nullptr;
        if (!checkPCDHeaderSizes(path, size, error, capacity)) return nullptr;
        PCDHeader pcd;
        if (!pcd.read(path)) {
            fail(error, capacity,
                 "not a PCD file, or its header is malformed (expected VERSION, FIELDS, SIZE, TYPE, COUNT, "
                 "WIDTH, HEIGHT, VIEWPOINT, POINTS and DATA lines, with WIDTH x HEIGHT = POINTS and as many "
                 "SIZE, TYPE and COUNT entries as FIELDS)");
            return nullptr;
        }
        // PCL reports a DATA line it could not place as offset (unsigned)-1.
        if (pcd.dataStart == 0 || pcd.dataStart > size) {
            fail(error, capacity, "the header has no DATA line (not a PCD file, or truncated within its header)");
            return nullptr;
        }
        if (pcd.cloud.fields.empty()) {
            fail(error, capacity, "the header declares no FIELDS");
            return nullptr;
        }
        // With more, WIDTH x HEIGHT x the point size can wrap around 2^64 and pass as a few bytes.
        if (static_cast<uint64_t>(pcd.cloud.width) * pcd.cloud.height > UINT32_MAX) {
            fail(error, capacity, "WIDTH %u x HEIGHT %u is more points than a PCD file holds (POINTS is at most %u)",
                 pcd.cloud.width, pcd.cloud.height, UINT32_MAX);
            return nullptr;
        }
        bool valid = pcd.dataType == 0 ? checkASCIIData(path, pcd.dataStart, pcd.cloud, error, capacity)
                                       : checkBinaryData(path, pcd.dataStart, pcd.dataType == 2, size, pcd.cloud, error, capacity);
        if (!valid) return nullptr;
        auto result = std::make_unique<RSCloud>();
        const bool padded = std::any_of(pcd.cloud.fields.begin(), pcd.cloud.fields.end(),
                                        [](const pcl::PCLPointField &field) { return field.name == "_"; });
        if (pcd.dataType == 2 && padded) {
            // PCL would unpack it wrongly (see unpackCompressedWithPadding): its header, our data.
            result->cloud = std::move(pcd.cloud);
            if (!unpackCompressedWithPadding(path, pcd.dataStart, result->cloud, error, capacity)) return nullptr;
        } else if (pcl::PCDReader().read(path, result->cloud) < 0) {
            fail(error, capacity, "PCL could not read the point data (corrupt %s data)",
                 pcd.dataType == 0 ? "ascii" : pcd.dataType == 1 ? "binary" : "binary_compressed");
            return nullptr;
        }
        if (!checkShape(result->cloud, error, capacity)) return nullptr;
        return result.release();
    });
}

extern "C" RSCloud *rs_cloud_read_ply(const char *path, char *error, size_t capacity) {
    return guarded<RSCloud *>(error, capacity, nullptr, [&]() -> RSCloud * {
        uint64_t size = 0;
        if (!fileSize(path, size, error, capacity)) return nullptr;
        {
            std::ifstream file(path, std::ios::binary);
            char magic[4] = {0, 0, 0, 0};
            file.read(magic, 4);
            if (!file || std::memcmp(magic, "ply", 3) != 0 || (magic[3] != '\n' && magic[3] != '\r')) {
                fail(error, capacity, "not a PLY file (it does not start with the line 'ply')");
                return nullptr;
            }
        }
        if (!checkPLYData(path, size, error, capacity)) return nullptr;
        pcl::PLYReader reader;
        auto result = std::make_unique<RSCloud>();
        if (reader.read(path, result->cloud) < 0) {
            fail(error, capacity,
                 "PCL could not read it: a malformed header (it needs a format line and an element vertex "
                 "with properties) or malformed data");
            return nullptr;
        }
        if (!checkShape(result->cloud, error, capacity)) return nullptr;
        return result.release();
    });
}

extern "C" void rs_cloud_free(RSCloud *cloud) { delete cloud; }

extern "C" size_t rs_cloud_point_count(const RSCloud *cloud) {
    return static_cast<size_t>(cloud->cloud.width) * cloud->cloud.height;
}

extern "C" uint32_t rs_cloud_width(const RSCloud *cloud) { return cloud->cloud.width; }
extern "C" uint32_t rs_cloud_height(const RSCloud *cloud) { return cloud->cloud.height; }
extern "C" size_t rs_cloud_field_count(const RSCloud *cloud) { return cloud->cloud.fields.size(); }

extern "C" const char *rs_cloud_field_name(const RSCloud *cloud, size_t index) {
    return cloud->cloud.fields.at(index).name.c_str();
}

extern "C" int rs_cloud_find_field(const RSCloud *cloud, const char *name) {
    const auto &fields = cloud->cloud.fields;
    for (size_t i = 0; i < fields.size(); ++i) {
        if (fields[i].name == name) return static_cast<int>(i);
    }
    return -1;
}

extern "C" int rs_cloud_copy_float(const RSCloud *cloud, int index, float *out, size_t stride, char *error,
                                   size_t capacity) {
    return copyField(cloud, index, error, capacity,
                     [&](const pcl::PCLPointCloud2 &c, const pcl::PCLPointField &field, size_t n) {
        if (field.datatype == pcl::PCLPointField::FLOAT32) {
            for (size_t i = 0; i < n; ++i) out[i * stride] = valueAt<float>(c, i, field);
        } else {
            for (size_t i = 0; i < n; ++i) out[i * stride] = static_cast<float>(numberAt(c, i, field));
        }
        return 0;
    });
}

extern "C" int rs_cloud_copy_uint32(const RSCloud *cloud, int index, uint32_t *out, char *error, size_t capacity) {
    return copyField(cloud, index, error, capacity,
                     [&](const pcl::PCLPointCloud2 &c, const pcl::PCLPointField &field, size_t n) {
        if (field.datatype == pcl::PCLPointField::UINT32) {
            for (size_t i = 0; i < n; ++i) out[i] = valueAt<uint32_t>(c, i, field);
            return 0;
        }
        for (size_t i = 0; i < n; ++i) {
            double value = numberAt(c, i, field);
            if (!(value >= 0 && value <= 4294967295.0) || value != std::floor(value)) {
                fail(error, capacity, "field '%s' (%s): point %zu holds %g, not a label (a whole number 0 to 2^32-1)",
                     field.name.c_str(), typeName(field.datatype), i, value);
                return -1;
            }
            out[i] = static_cast<uint32_t>(value);
        }
        return 0;
    });
}

extern "C" int rs_cloud_copy_rgb(const RSCloud *cloud, int index, uint32_t *out, char *error, size_t capacity) {
    return copyField(cloud, index, error, capacity,
                     [&](const pcl::PCLPointCloud2 &c, const pcl::PCLPointField &field, size_t n) {
        if (pcl::getFieldSize(field.datatype) != 4) {
            fail(error, capacity, "colour field '%s' is %s; a packed colour has 4 bytes", field.name.c_str(),
                 typeName(field.datatype));
            return -1;
        }
        for (size_t i = 0; i < n; ++i) out[i] = valueAt<uint32_t>(c, i, field);
        return 0;
    });
}

// MARK: - Writing

extern "C" int rs_pcd_write(const char *path, RSPCDEncoding encoding, const float *xyzr, size_t count,
                            const char *remissionField, const uint32_t *labels, const uint32_t *rgb, char *error,
                            size_t capacity) {
    return guarded<int>(error, capacity, -1, [&] {
        if (count > UINT32_MAX) {
            fail(error, capacity, "%zu points are more than a PCD file can hold", count);
            return -1;
        }
        pcl::PCLPointCloud2 cloud;
        auto addField = [&](const char *name, uint8_t datatype) {
            pcl::PCLPointField field;
            field.name = name;
            field.offset = cloud.point_step;
            field.datatype = datatype;
            field.count = 1;
            cloud.fields.push_back(field);
            cloud.point_step += 4;
        };
        addField("x", pcl::PCLPointField::FLOAT32);
        addField("y", pcl::PCLPointField::FLOAT32);
        addField("z", pcl::PCLPointField::FLOAT32);
        addField(remissionField, pcl::PCLPointField::FLOAT32);
        if (labels) addField("label", pcl::PCLPointField::UINT32);
        // PCL's convention for colour: a float field `rgb` holding the packed bytes.
        if (rgb) addField("rgb", pcl::PCLPointField::FLOAT32);
        cloud.width = static_cast<uint32_t>(count);
        cloud.height = 1;
        cloud.row_step = cloud.point_step * cloud.width;
        cloud.is_bigendian = false;
        cloud.data.resize(count * cloud.point_step);
        bool dense = true;
        uint8_t *out = cloud.data.data();
        for (size_t i = 0; i < count; ++i, out += cloud.point_step) {
            std::memcpy(out, xyzr + 4 * i, 16);
            size_t offset = 16;
            if (labels) { std::memcpy(out + offset, labels + i, 4); offset += 4; }
            if (rgb) std::memcpy(out + offset, rgb + i, 4);
            dense = dense && std::isfinite(xyzr[4 * i]) && std::isfinite(xyzr[4 * i + 1]) && std::isfinite(xyzr[4 * i + 2]);
        }
        cloud.is_dense = dense;
        pcl::PCDWriter writer;
        const Eigen::Vector4f origin = Eigen::Vector4f::Zero();
        const Eigen::Quaternionf orientation = Eigen::Quaternionf::Identity();
        int status = 0;
        switch (encoding) {
        case RS_PCD_ASCII: status = writer.writeASCII(path, cloud, origin, orientation, 9); break;
        case RS_PCD_BINARY: status = writer.writeBinary(path, cloud, origin, orientation); break;
        case RS_PCD_BINARY_COMPRESSED: status = writer.writeBinaryCompressed(path, cloud, origin, orientation); break;
        default: fail(error, capacity, "unknown PCD encoding %d", static_cast<int>(encoding)); return -1;
        }
        if (status < 0) {
            fail(error, capacity, "PCL could not write the file: %s", errno ? std::strerror(errno) : "unknown error");
            return -1;
        }
        if (encoding != RS_PCD_ASCII &&
            !trimPagePadding(path, encoding == RS_PCD_BINARY_COMPRESSED, cloud.data.size(), error, capacity)) {
            return -1;
        }
        return 0;
    });
}
