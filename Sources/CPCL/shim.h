// Intentionally empty: see module.modulemap. The PCL headers are C++ and heavy to compile, so
// only the bridge's .cpp files include them.
