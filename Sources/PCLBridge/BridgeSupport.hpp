// Helpers shared by the bridge's .cpp files (not part of the public C interface).
#pragma once

#include "boost_clang_compat.hpp" // before any Boost or PCL header

#include <pcl/console/print.h>

#include <cstdarg>
#include <cstdio>
#include <exception>
#include <mutex>

namespace rangeseg_bridge {

/// Writes a printf-style message into the caller's error buffer.
inline void fail(char *error, size_t capacity, const char *format, ...) {
    if (error == nullptr || capacity == 0) return;
    va_list args;
    va_start(args, format);
    std::vsnprintf(error, capacity, format, args);
    va_end(args);
}

/// PCL reports problems by printing to the console; the library must not print, and the bridge
/// finds and words the problems itself. Called at every entry point; silences once.
inline void silencePCL() {
    static std::once_flag once;
    std::call_once(once, [] { pcl::console::setVerbosityLevel(pcl::console::L_ALWAYS); });
}

/// Runs `body`, turning any C++ exception into an error message and `failure`.
template <typename Result, typename Body>
Result guarded(char *error, size_t capacity, Result failure, Body body) {
    silencePCL();
    try {
        return body();
    } catch (const std::bad_alloc &) {
        fail(error, capacity, "out of memory");
    } catch (const std::exception &e) {
        fail(error, capacity, "%s", e.what());
    } catch (...) {
        fail(error, capacity, "unexpected failure inside the Point Cloud Library");
    }
    return failure;
}

} // namespace rangeseg_bridge
