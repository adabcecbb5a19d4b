/* FrozenSeg C API: open-vocabulary segmentation over exported artifacts (manifest.json + graphs).
 *
 * Every call returns an fs_status; on failure fs_last_error() gives a message for the calling
 * thread (what was expected, what came, how to fix it). Nothing throws across this boundary.
 * Handles are opaque; results are owned by the library and released with fs_result_release.
 */
#ifndef FROZENSEG_FROZENSEG_H
#define FROZENSEG_FROZENSEG_H

#include <stddef.h>
#include <stdint.h>

/* The library exports these functions and nothing else (built with hidden visibility). */
#if defined(_WIN32) && defined(FROZENSEG_BUILDING_LIBRARY)
#define FS_API __declspec(dllexport)
#elif defined(_WIN32)
#define FS_API __declspec(dllimport)
#elif defined(__GNUC__)
#define FS_API __attribute__((visibility("default")))
#else
#define FS_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

#define FROZENSEG_VERSION_MAJOR 0
#define FROZENSEG_VERSION_MINOR 1
#define FROZENSEG_VERSION_PATCH 0

/* Status codes. The kinds follow the Python runtime's errors (runtime/errors.py). */
typedef enum fs_status {
    FS_OK = 0,
    FS_INVALID_ARGUMENT = 1,   /* a null pointer, a zero, negative or huge size, an unknown enum value,
                                  a call out of order (segment before a vocabulary), an unusable
                                  cache folder */
    FS_INVALID_INPUT = 2,      /* bad user input: vocabulary, image, options that contradict each
                                  other (UsageError) */
    FS_ARTIFACT_ERROR = 3,     /* manifest or graphs missing, corrupt, mismatched (ArtifactError) */
    FS_BACKEND_ERROR = 4,      /* backend unknown, not built in, or unusable here (BackendError) */
    FS_INFERENCE_ERROR = 5,    /* a runner (ONNX Runtime session, TensorRT engine) failed while running */
    FS_OUT_OF_MEMORY = 6,
    FS_INTERNAL_ERROR = 7      /* a bug: please report it with the message */
} fs_status;


/* ---- version ---------------------------------------------------------------------------------- */
/* "0.1.0"; compare with FROZENSEG_VERSION_* to detect a header/library mismatch. */
FS_API const char* fs_version(void);

/* The backend names this build of the library has, comma-separated, "auto" first
 * ("auto,onnxruntime-cpu,onnxruntime-cuda,onnxruntime-trt" and, when built in, "tensorrt" and
 * "openvino-cpu"); a static string. Whether this machine can run one (a GPU execution provider, say)
 * is fs_segmenter_create's answer. */
FS_API const char* fs_backends(void);

/* The calling thread's message for its last failed call. Every call that returns an fs_status
 * clears it first, so after a success it is ""; the pointer stays valid until the thread's next
 * status-returning call. */
FS_API const char* fs_last_error(void);

/* ---- segmenter -------------------------------------------------------------------------------- */
typedef struct fs_segmenter fs_segmenter; /* opaque */
typedef fs_segmenter* fs_segmenter_t;

/* How the CLIP and SAM image encoders share the machine (fs_segmenter_options.encoder_schedule). */
enum { FS_ENCODERS_AUTO = 0, FS_ENCODERS_CONCURRENT = 1, FS_ENCODERS_SEQUENTIAL = 2 };

typedef struct fs_segmenter_options {
    const char* backend;     /* "auto" (NULL), "onnxruntime-cpu", "onnxruntime-cuda", "onnxruntime-trt", "tensorrt", "openvino-cpu" (fs_backends) */
    const char* precision;   /* "fp32" (NULL), "fp16", "int8", "mixed" (after frozenseg-deploy quantize) */
    int threads;             /* ONNX Runtime intra-op threads (OpenVINO's inference threads); 0: its default */
    const char* cache_dir;   /* vocabulary cache folder; NULL: $XDG_CACHE_HOME/frozenseg-deploy/vocabulary, or ~/.cache/... without it; "": memory only */
    int verify;              /* nonzero: check every graph's sha256 at load (default in fs_segmenter_options_default) */
    int cuda_graph;          /* nonzero: replay TensorRT engines as CUDA graphs; backend "tensorrt" only (any other, "auto" included, fails with FS_INVALID_INPUT) */
    int64_t max_image_pixels;/* refuse larger images before decoding; 0: the default (178956970); -1: no limit */
    int encoder_schedule;    /* FS_ENCODERS_AUTO (0): at once on a GPU or a CPU of many cores (the manifest's runtime.encoder_schedule.many_cores), one after the other on a smaller CPU */
} fs_segmenter_options;

/* Defaults: auto backend, fp32, verify on. */
FS_API fs_segmenter_options fs_segmenter_options_default(void);

/* Load artifacts_dir/manifest.json and its graphs. `options` may be NULL (defaults). */
FS_API fs_status fs_segmenter_create(const char* artifacts_dir, const fs_segmenter_options* options,
                              fs_segmenter_t* out);
/* Releases everything; NULL is allowed. No other call on the handle may be running. */
FS_API void fs_segmenter_destroy(fs_segmenter_t segmenter);

/* The backend actually used (e.g. "onnxruntime-cpu" for "auto"); owned by the segmenter. */
FS_API const char* fs_segmenter_backend(fs_segmenter_t segmenter);

/* ---- vocabulary ------------------------------------------------------------------------------- */
typedef struct fs_class {
    const char* const* names; /* synonyms, first = display name; UTF-8 */
    size_t num_names;
    int isthing;              /* nonzero: a countable thing (instances, panoptic things) */
} fs_class;

/* Classes given directly. A bad vocabulary leaves the current one in place. */
FS_API fs_status fs_segmenter_set_vocabulary(fs_segmenter_t segmenter, const fs_class* classes,
                                      size_t num_classes);
/* A vocabulary as the Python runtime takes it: a file (.txt "ID:name,syn", .json) or text
 * ("cat,dog,grass", or a JSON list of {"names": [...], "isthing": bool} objects). */
FS_API fs_status fs_segmenter_set_vocabulary_text(fs_segmenter_t segmenter, const char* source);
/* Classes of the current vocabulary (0 before one is set). */
FS_API size_t fs_segmenter_num_classes(fs_segmenter_t segmenter);

/* ---- images and results ----------------------------------------------------------------------- */
typedef enum fs_pixel_format { FS_PIXEL_RGB = 0, FS_PIXEL_BGR = 1, FS_PIXEL_RGBA = 2, FS_PIXEL_BGRA = 3, FS_PIXEL_GRAY = 4 } fs_pixel_format;

typedef struct fs_image {
    const uint8_t* data;  /* first row */
    int32_t height, width;
    int64_t stride;       /* bytes from one row to the next (>= width * channels) */
    fs_pixel_format format;
} fs_image;

typedef enum fs_task { FS_TASK_SEMANTIC = 0, FS_TASK_PANOPTIC = 1, FS_TASK_INSTANCE = 2 } fs_task;

typedef struct fs_segment_info {
    int32_t id;            /* value in panoptic_seg; from 1 */
    int32_t category_id;   /* class index */
    int32_t isthing;
    float score;
} fs_segment_info;

typedef struct fs_result fs_result; /* opaque; owned by the library */
typedef fs_result* fs_result_t;

/* Segment one image with the current vocabulary. Thread-safe: many threads may call it on one
 * segmenter at once (set_vocabulary swaps the vocabulary atomically between calls). */
FS_API fs_status fs_segment(fs_segmenter_t segmenter, const fs_image* image, fs_task task, fs_result_t* out);
/* fs_segment with its own test-time resize instead of the manifest's: the shortest edge to
 * short_edge, the longest at most max_size (as `--resize SHORT,MAX`); both 0: no resize (the image
 * at its own size, padded). Otherwise 0 < short_edge <= max_size, or FS_INVALID_ARGUMENT. */
FS_API fs_status fs_segment_resized(fs_segmenter_t segmenter, const fs_image* image, fs_task task,
                                    int32_t short_edge, int32_t max_size, fs_result_t* out);
/* The same from an encoded file (PNG, JPEG; EXIF orientation applied). */
FS_API fs_status fs_segment_file(fs_segmenter_t segmenter, const char* path, fs_task task, fs_result_t* out);
FS_API void fs_result_release(fs_result_t result);

/* Result views, valid until fs_result_release. Sizes are the image's own. */
FS_API fs_status fs_result_size(fs_result_t result, int32_t* height, int32_t* width);
/* semantic: (H, W) class index per pixel; NULL for other tasks. */
FS_API const int32_t* fs_result_semantic_labels(fs_result_t result);
/* panoptic: (H, W) segment id per pixel (0: none) and the segments. */
FS_API const int32_t* fs_result_panoptic(fs_result_t result, const fs_segment_info** segments, size_t* num_segments);
/* instance: n masks (n, H, W) of 0/1 bytes, their scores and classes. */
FS_API size_t fs_result_instances(fs_result_t result, const uint8_t** masks, const float** scores,
                           const int32_t** classes);
/* Class display names of the result's vocabulary. */
FS_API size_t fs_result_num_classes(fs_result_t result);
FS_API const char* fs_result_class_name(fs_result_t result, size_t index);
/* Seconds per stage of the segment call, as the Python runtime's SegmentationResult.timings:
 * "preprocess", "clip_image" and "sam_image" (the image encoders, in the order they were recorded:
 * SAM first when they run at once), "decoder", "graphs" (encoders and decoder together),
 * "postprocess". fs_result_num_timings gives 0 for NULL; fs_result_timing gives the index-th stage
 * name (valid until fs_result_release) and its seconds, FS_INVALID_ARGUMENT for a NULL argument or
 * an index out of range. */
FS_API size_t fs_result_num_timings(fs_result_t result);
FS_API fs_status fs_result_timing(fs_result_t result, size_t index, const char** stage, double* seconds);

#ifdef __cplusplus
}
#endif

#endif /* FROZENSEG_FROZENSEG_H */
