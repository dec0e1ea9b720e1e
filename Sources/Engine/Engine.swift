// The network engine: tensors, reverse-mode autograd, layers, optimisers and checkpoints,
// with the arithmetic on Intel oneDNN 2.6.
//
// How it fits together
// --------------------
// - `Tensor` (Tensor.swift) is a float32 (or, for a bf16 network's activations, bfloat16)
//   buffer that oneDNN reads and writes directly
//   (`Storage`, DNNL.swift) plus a logical shape. Its physical layout is whatever the
//   producing primitive chose: convolutions are created with activations in a channel-blocked
//   layout, `nChw16c` for oneDNN's AVX-512 kernels or `nChw8c` for its AVX2 ones (chosen once by
//   the CPU, `ChannelBlock`), and batch norm, leaky ReLU and additions work in that layout too,
//   so activations are reordered only at the network's edges (input, and the loss when it is
//   not the fused cross-entropy). `scalars`/`contiguous()` give plain row-major values
//   whenever Swift code needs them.
// - Strided passes oneDNN 2.6 has only slow kernels for are rewritten (Convolution.swift):
//   16-channel outputs padded to 32 on AVX-512 (`ChannelPaddedPass`), and on AVX2 every pass
//   that writes at stride 2 along the width split into two stride-1 phases
//   (`WidthPolyphasePass`).
// - Autograd (Autograd.swift) is define-by-run: every op returns `Tensor.result(...)` with a
//   closure that maps the output gradient to input gradients and holds exactly what it
//   needs. `backward()` sorts the graph once, walks it in reverse, accumulates gradients
//   (in whatever layout they arrive; each backward reorders to what its primitive wants),
//   stores leaf gradients in plain layout in `grad`, and frees the graph as it goes.
//   `withoutGradient { }` turns recording off (inference, metrics, loss weights).
// - oneDNN primitives are created once per operation, shape and layout and cached
//   (`DNNLContext.cached`); buffers are recycled by size (`BufferPool`), so a training step
//   after the first allocates nothing new from the system. Threads follow OMP_NUM_THREADS.
//   Small tensors (weights) change layout in Swift (`SmallReorder`), which saves about a
//   quarter of the OpenMP parallel regions of a training step.
// - Threads: the engine may be used from several threads at once (two trainers, one network
//   labelling scans on several threads). Shared objects (storages, cached primitives) are
//   immutable once made; `DNNLContext` guards the cache with one lock and runs one primitive
//   at a time with another, handing each its scratchpad (oneDNN's own scratchpad is tied to
//   the thread that created the primitive). A model itself is not locked: one thread trains
//   it, or several only read it (evaluation mode without gradients).
// - The fused softmax cross-entropy (Softmax.swift) is the loss's hot path: oneDNN's
//   log-softmax on the head's blocked output, the gradient formed in the same layout.
// - Modules (Module.swift, Layers/) expose parameters and buffers under PyTorch's dotted
//   `state_dict()` names; optimisers (Optimizers/), checkpoints (Checkpoint.swift,
//   SafeTensors.swift) and parameter counting all walk `namedParameters()`.
// - The networks (Networks/: `RangeNetLite`, `DarkNet`, `SalsaNext`) conform to
//   `SegmentationNetwork` and are listed in `Networks.all`; `GraphRecording` records a forward
//   pass's operations for the ONNX export. In evaluation mode without gradients, `RangeNetLite`
//   and `DarkNet` run a fused inference path (InferenceFusion.swift): batch norm folded into the
//   convolutions, leaky ReLU as a post-op.
// - Precision (Precision.swift): `withPrecision(.bf16) { ... }` runs the convolutions in
//   bfloat16 with float32 accumulation, activations and their gradients in bfloat16, and keeps
//   logits, batch-norm statistics, parameters and their gradients float32 (PyTorch's autocast);
//   the backward pass uses what its forward pass recorded. `EngineProfile` times primitives by kind.
// - Randomness comes only from an explicitly passed, seeded `RandomGenerator`.
// - The library never prints; benchmarks return a `BenchmarkReport` (Benchmark.swift).
