// The configuration, samples and segmenter moved to Inference (which needs no Open MPI); a
// program that imports Training still sees them, as it did before the split.
@_exported import Inference
